// Fixed development credentials: printed at start in development, refused in production.
export const DEV_TWILIO_ACCOUNT_SID = `AC${'0'.repeat(32)}`;
export const DEV_TWILIO_AUTH_TOKEN = 'dev-auth-token-not-for-production';
export const DEV_JWT_SECRET = 'dev-jwt-secret-not-for-production-0123456789';
export const DEV_ADMIN_EMAIL = 'admin@example.com';
export const DEV_ADMIN_PASSWORD = 'dev-admin-password';
export const DEV_WHATSAPP_FROM = 'whatsapp:+14155238886'; // Twilio's WhatsApp sandbox number
export const DEV_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/whatsapp';
export const DEV_REDIS_URL = 'redis://127.0.0.1:6379';
// Every development credential: production refuses a secret equal to any of them, not only to its
// own default, so a value copied from .env.example into the wrong variable is caught too.
export const DEV_SECRETS: ReadonlySet<string> = new Set([
  DEV_TWILIO_ACCOUNT_SID,
  DEV_TWILIO_AUTH_TOKEN,
  DEV_JWT_SECRET,
  DEV_ADMIN_PASSWORD,
]);
