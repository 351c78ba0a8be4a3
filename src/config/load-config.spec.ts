import { ConfigError } from './env-reader';
import {
  DEV_JWT_SECRET,
  DEV_TWILIO_ACCOUNT_SID,
  DEV_TWILIO_AUTH_TOKEN,
  loadConfig,
} from './load-config';

const PRODUCTION = {
  NODE_ENV: 'production',
  DATABASE_URL: 'postgres://app:s3cret@db.internal:5432/whatsapp',
  REDIS_URL: 'redis://:hunter2hunter2@redis.internal:6379',
  TWILIO_ACCOUNT_SID: `AC${'a1'.repeat(16)}`,
  TWILIO_AUTH_TOKEN: 'prod-token-0123456789abcdef',
  TWILIO_WHATSAPP_FROM: 'whatsapp:+14155550100',
  PUBLIC_BASE_URL: 'https://api.example.com',
  JWT_SECRET: 'x'.repeat(48),
};

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.lines();
    throw error;
  }
  return [];
}

describe('loadConfig', () => {
  it('should give every variable a development default so npm run dev needs no .env', () => {
    const config = loadConfig({});
    expect(config.nodeEnv).toBe('development');
    expect(config.port).toBe(5000);
    expect(config.role).toBe('all');
    expect(config.database.url).toBe('postgres://postgres@127.0.0.1:5432/whatsapp');
    expect(config.redis.url).toBe('redis://127.0.0.1:6379');
    expect(config.publicBaseUrl).toBe('http://127.0.0.1:5000');
    expect(config.simulator).toEqual({ port: 4010, deliverTo: 'http://127.0.0.1:5000' });
    expect(config.twilio.accountSid).toBe(DEV_TWILIO_ACCOUNT_SID);
    expect(config.twilio.usingDevCredentials).toBe(true);
    expect(config.twilio.apiBaseUrl).toBeUndefined();
    expect(config.jwt.ttlSeconds).toBe(900);
    expect(config.limits).toEqual({
      loginPerIp: 10,
      loginPerEmail: 5,
      sendPerUserPerSecond: 100,
      readPerUserPerSecond: 20,
      webhookUnsignedPerIp: 200,
      twilioMps: 80,
    });
    expect(config.sending).toMatchObject({
      maxAttempts: 8,
      enqueueTimeoutMs: 500,
      windowCheck: true,
    });
    expect(config.redis).toEqual({
      url: 'redis://127.0.0.1:6379',
      keyPrefix: 'wa:',
      queuePrefix: 'wa-bull',
    });
    expect(config.shutdownTimeoutMs).toBe(25_000);
    expect(config.docsEnabled).toBe(true);
    expect(config.signatureMode).toBe('enforce');
  });

  it('should derive local URLs from PORT', () => {
    const config = loadConfig({ PORT: '6001' });
    expect(config.publicBaseUrl).toBe('http://127.0.0.1:6001');
    expect(config.simulator.deliverTo).toBe('http://127.0.0.1:6001');
  });

  it.each([
    ['NODE_ENV', 'staging', 'expected one of development, production, test'],
    ['PORT', 'eighty', 'expected an integer between 0 and 65535'],
    ['PORT', '70000', 'expected an integer between 0 and 65535'],
    ['ROLE', 'scheduler', 'expected one of api, worker, all'],
    ['DATABASE_URL', 'mysql://x@y/z', 'expected a URL (postgres or postgresql)'],
    ['DB_POOL_SIZE', '0', 'expected an integer between 1 and 200'],
    ['REDIS_URL', 'localhost:6379', 'expected a URL (redis or rediss)'],
    ['REDIS_PREFIX', 'has space', 'expected 1–32 letters, digits, - or _'],
    ['TWILIO_ACCOUNT_SID', 'AC123', 'expected AC followed by 32 hex characters'],
    ['TWILIO_AUTH_TOKEN', 'short', 'expected at least 16 characters'],
    ['TWILIO_AUTH_TOKEN_PREVIOUS', 'short', 'expected at least 16 characters'],
    ['TWILIO_WHATSAPP_FROM', '+14155550100', 'expected whatsapp:+ followed by an E.164 number'],
    ['TWILIO_MESSAGING_SERVICE_SID', 'MG1', 'expected MG followed by 32 hex characters'],
    ['TWILIO_API_BASE_URL', 'api.twilio.com', 'expected a URL (http or https)'],
    ['SIMULATOR_PORT', '-1', 'expected an integer between 0 and 65535'],
    ['SIMULATOR_DELIVER_TO', 'nowhere', 'expected a URL (http or https)'],
    ['PUBLIC_BASE_URL', 'ftp://x', 'expected a URL (http or https)'],
    ['WEBHOOK_URL', 'not a url', 'expected a URL (http or https)'],
    [
      'TRUST_PROXY',
      'maybe',
      'expected true, false, a hop count, or a comma-separated list of proxy addresses/CIDRs',
    ],
    ['SIGNATURE_MODE', 'off', 'expected one of enforce, report'],
    ['JWT_SECRET', 'too-short', 'expected at least 32 characters'],
    ['JWT_TTL', '10', 'expected an integer between 60 and 86400'],
    ['ADMIN_EMAIL', 'nobody', 'expected an email address'],
    ['ADMIN_PASSWORD', 'short', 'expected at least 12 characters'],
    ['LOGIN_LIMIT_PER_IP', '0', 'expected an integer between 1 and 1000000'],
    ['LOGIN_LIMIT_PER_EMAIL', 'x', 'expected an integer between 1 and 1000000'],
    ['SEND_RATE_LIMIT', '1.5', 'expected an integer between 1 and 1000000'],
    ['WEBHOOK_UNSIGNED_LIMIT', '-3', 'expected an integer between 1 and 1000000'],
    ['TWILIO_MPS', 'fast', 'expected an integer between 0 and 100000'],
    ['SEND_MAX_ATTEMPTS', '0', 'expected an integer between 1 and 100'],
    ['ENQUEUE_TIMEOUT_MS', '1', 'expected an integer between 10 and 60000'],
    ['WINDOW_CHECK', 'sometimes', 'expected on or off'],
    ['STUCK_AFTER', '0', 'expected an integer between 1 and 2592000'],
    ['RECONCILE_EVERY', 'hourly', 'expected an integer between 1 and 86400'],
    ['RECONCILE_AFTER', '-1', 'expected an integer between 0 and 2592000'],
    ['RECONCILE_READ', 'maybe', 'expected on or off'],
    ['RETENTION_DAYS', '0', 'expected an integer between 1 and 3650'],
    ['SHUTDOWN_TIMEOUT_MS', 'soon', 'expected an integer between 0 and 600000'],
    ['DOCS_ENABLED', 'y', 'expected on or off'],
    ['TEST_ERROR_ROUTE', '2', 'expected on or off'],
    ['EVENTS_ALLOW_PRIVATE', 'all', 'expected on or off'],
    ['LOG_LEVEL', 'verbose', 'expected one of trace, debug, info, warn, error, fatal, silent'],
    ['SENTRY_DSN', 'dsn', 'expected a URL (http or https)'],
    ['METRICS_AUTH', 'nocolon', 'expected user:password'],
  ])('should reject an invalid %s by name (%s)', (name, value, expected) => {
    const lines = problemsOf({ [name]: value });
    expect(lines).toEqual([`config: ${name} is invalid: ${expected}`]);
  });

  it('should list every bad variable at once, one line each', () => {
    const lines = problemsOf({ PORT: 'x', ROLE: 'y', JWT_TTL: 'z' });
    expect(lines).toHaveLength(3);
    expect(lines.map((line) => line.split(' ')[1])).toEqual(['PORT', 'ROLE', 'JWT_TTL']);
  });

  it('should never echo a value, secret or not', () => {
    const secrets = {
      TWILIO_AUTH_TOKEN: 'leak-me',
      JWT_SECRET: 'leak-me-too',
      DATABASE_URL: 'mysql://user:leak-password@db/x',
      METRICS_AUTH: 'leakuser',
    };
    const output = problemsOf(secrets).join('\n');
    expect(output).not.toMatch(/leak/);
  });

  it('should accept a complete production environment', () => {
    const config = loadConfig(PRODUCTION);
    expect(config.isProduction).toBe(true);
    expect(config.docsEnabled).toBe(false);
    expect(config.twilio.usingDevCredentials).toBe(false);
    expect(config.admin).toEqual({ email: undefined, password: undefined });
  });

  it.each([
    'DATABASE_URL',
    'REDIS_URL',
    'TWILIO_ACCOUNT_SID',
    'TWILIO_AUTH_TOKEN',
    'PUBLIC_BASE_URL',
    'JWT_SECRET',
  ])('should require %s in production', (name) => {
    const env: Record<string, string> = { ...PRODUCTION };
    delete env[name];
    const lines = problemsOf(env);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^config: ${name} is required: expected `));
  });

  it.each([
    ['TWILIO_ACCOUNT_SID', DEV_TWILIO_ACCOUNT_SID],
    ['TWILIO_AUTH_TOKEN', DEV_TWILIO_AUTH_TOKEN],
    ['JWT_SECRET', DEV_JWT_SECRET],
  ])('should refuse the development %s in production', (name, value) => {
    expect(problemsOf({ ...PRODUCTION, [name]: value })).toEqual([
      `config: ${name} is invalid: must not be the development default in production`,
    ]);
  });

  it('should require https for PUBLIC_BASE_URL in production', () => {
    expect(problemsOf({ ...PRODUCTION, PUBLIC_BASE_URL: 'http://api.example.com' })).toEqual([
      'config: PUBLIC_BASE_URL is invalid: must be an https URL in production',
    ]);
  });

  it('should refuse TEST_ERROR_ROUTE in production', () => {
    expect(problemsOf({ ...PRODUCTION, TEST_ERROR_ROUTE: 'on' })).toEqual([
      'config: TEST_ERROR_ROUTE is invalid: must be off in production',
    ]);
  });

  it('should require a sender in production: a WhatsApp number or a messaging service', () => {
    const env: Record<string, string> = { ...PRODUCTION };
    delete env.TWILIO_WHATSAPP_FROM;
    expect(problemsOf(env)).toHaveLength(1);
    expect(
      loadConfig({ ...env, TWILIO_MESSAGING_SERVICE_SID: `MG${'0f'.repeat(16)}` }).twilio
        .messagingServiceSid,
    ).toBe(`MG${'0f'.repeat(16)}`);
  });

  it('should use the origin of a legacy WEBHOOK_URL as the public base URL', () => {
    const env: Record<string, string> = { ...PRODUCTION };
    delete env.PUBLIC_BASE_URL;
    const config = loadConfig({
      ...env,
      WEBHOOK_URL: 'https://hooks.example.com/api/v1/whatsapp/webhook',
    });
    expect(config.publicBaseUrl).toBe('https://hooks.example.com');
  });

  it('should let PUBLIC_BASE_URL win over WEBHOOK_URL and strip a trailing slash', () => {
    const config = loadConfig({
      PUBLIC_BASE_URL: 'https://a.example.com/',
      WEBHOOK_URL: 'https://b.example.com/api/v1/whatsapp/webhook',
    });
    expect(config.publicBaseUrl).toBe('https://a.example.com');
  });

  it('should want both admin variables or neither', () => {
    expect(problemsOf({ ...PRODUCTION, ADMIN_EMAIL: 'ops@example.com' })).toEqual([
      'config: ADMIN_PASSWORD is required when the other ADMIN_ variable is set',
    ]);
  });

  it.each([
    ['true', true],
    ['false', false],
    ['2', 2],
    ['10.0.0.0/8, 127.0.0.1', ['10.0.0.0/8', '127.0.0.1']],
  ])('should parse TRUST_PROXY=%s for Fastify', (raw, expected) => {
    expect(loadConfig({ TRUST_PROXY: raw }).trustProxy).toEqual(expected);
  });

  it('should parse switches and basic credentials', () => {
    const config = loadConfig({
      WINDOW_CHECK: 'off',
      RECONCILE_READ: 'on',
      METRICS_AUTH: 'prom:pa:ss',
    });
    expect(config.sending.windowCheck).toBe(false);
    expect(config.delivery.reconcileRead).toBe(true);
    expect(config.metricsAuth).toEqual({ user: 'prom', password: 'pa:ss' });
  });
});
