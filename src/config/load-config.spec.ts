import { effectiveSignatureMode } from '../modules/webhooks/signature-mode';
import { configWarnings } from './config-warnings';
import { ConfigError } from './env-reader';
import {
  DEV_ADMIN_PASSWORD,
  DEV_JWT_SECRET,
  DEV_TWILIO_ACCOUNT_SID,
  DEV_TWILIO_AUTH_TOKEN,
} from './dev-defaults';
import { loadConfig } from './load-config';

const PRODUCTION = {
  NODE_ENV: 'production',
  DATABASE_URL: 'postgres://app:s3cret@db.internal:5432/whatsapp',
  REDIS_URL: 'redis://:hunter2hunter2@redis.internal:6379',
  TWILIO_ACCOUNT_SID: `AC${'a1'.repeat(16)}`,
  TWILIO_AUTH_TOKEN: 'prod-token-0123456789abcdef',
  TWILIO_WHATSAPP_FROM: 'whatsapp:+14155550100',
  PUBLIC_BASE_URL: 'https://api.example.com',
  JWT_SECRET: 'x'.repeat(48),
  METRICS_AUTH: 'prom:scrape-password-0123',
};

// A fixed boot time, so date rules are checked without reading the clock.
const BOOT = new Date('2025-03-10T12:00:00Z');
const DAY_MS = 86_400_000;
const daysAfterBoot = (days: number): string =>
  new Date(BOOT.getTime() + days * DAY_MS).toISOString();

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env, BOOT);
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
    expect(config.simulator).toEqual({
      port: 4010,
      host: '127.0.0.1',
      deliverTo: 'http://127.0.0.1:5000',
    });
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
    ['SIMULATOR_HOST', 'http://x', 'expected an IP address or a host name'],
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
    ['METRICS_AUTH', 'nocolon', 'expected user:password, or off to leave /metrics open'],
    [
      'SIGNATURE_REPORT_UNTIL',
      'next week',
      'expected an ISO-8601 date (2025-01-31) or date-time with offset (2025-01-31T18:00:00Z)',
    ],
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
    'METRICS_AUTH',
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
      `config: ${name} is invalid: must not be a development default in production`,
    ]);
  });

  it('should refuse the development ADMIN_PASSWORD in production', () => {
    const env = { ...PRODUCTION, ADMIN_EMAIL: 'ops@example.com' };
    expect(problemsOf({ ...env, ADMIN_PASSWORD: DEV_ADMIN_PASSWORD })).toEqual([
      'config: ADMIN_PASSWORD is invalid: must not be a development default in production',
    ]);
    expect(loadConfig({ ...env, ADMIN_PASSWORD: 'a-real-admin-password' }, BOOT).admin).toEqual({
      email: 'ops@example.com',
      password: 'a-real-admin-password',
    });
  });

  it('should keep the development ADMIN_PASSWORD outside production', () => {
    expect(loadConfig({}, BOOT).admin.password).toBe(DEV_ADMIN_PASSWORD);
  });

  it.each([
    ['JWT_SECRET', DEV_TWILIO_AUTH_TOKEN],
    ['TWILIO_AUTH_TOKEN', DEV_JWT_SECRET],
    ['TWILIO_AUTH_TOKEN_PREVIOUS', DEV_TWILIO_AUTH_TOKEN],
    ['TWILIO_AUTH_TOKEN_PREVIOUS', DEV_ADMIN_PASSWORD],
    ['ADMIN_PASSWORD', DEV_JWT_SECRET],
    ['METRICS_AUTH', `prom:${DEV_ADMIN_PASSWORD}`],
  ])('should refuse %s equal to any development secret in production', (name, value) => {
    const env: Record<string, string> = {
      ...PRODUCTION,
      ADMIN_EMAIL: 'ops@example.com',
      ADMIN_PASSWORD: 'a-real-admin-password',
      [name]: value,
    };
    expect(problemsOf(env)).toEqual([
      `config: ${name} is invalid: must not be a development default in production`,
    ]);
  });

  it('should refuse a TWILIO_AUTH_TOKEN_PREVIOUS equal to the current token in production', () => {
    expect(
      problemsOf({ ...PRODUCTION, TWILIO_AUTH_TOKEN_PREVIOUS: PRODUCTION.TWILIO_AUTH_TOKEN }),
    ).toEqual([
      'config: TWILIO_AUTH_TOKEN_PREVIOUS is invalid: must differ from TWILIO_AUTH_TOKEN in production: it holds the token being rotated out',
    ]);
  });

  it('should accept a TWILIO_AUTH_TOKEN_PREVIOUS that differs from the current token in production', () => {
    const config = loadConfig(
      { ...PRODUCTION, TWILIO_AUTH_TOKEN_PREVIOUS: 'old-prod-token-0123456789' },
      BOOT,
    );
    expect(config.twilio.authTokenPrevious).toBe('old-prod-token-0123456789');
    expect(configWarnings(config, BOOT)).toEqual([]);
  });

  it('should only warn about a TWILIO_AUTH_TOKEN_PREVIOUS equal to the current token outside production', () => {
    const config = loadConfig({ TWILIO_AUTH_TOKEN_PREVIOUS: DEV_TWILIO_AUTH_TOKEN }, BOOT);
    expect(config.twilio.authTokenPrevious).toBe(DEV_TWILIO_AUTH_TOKEN);
    expect(configWarnings(config, BOOT)).toEqual([
      'config: TWILIO_AUTH_TOKEN_PREVIOUS equals TWILIO_AUTH_TOKEN and adds nothing; remove it once a rotation is done',
    ]);
  });

  it.each(['true', 'on', 'yes'])('should refuse TRUST_PROXY=%s in production', (raw) => {
    expect(problemsOf({ ...PRODUCTION, TRUST_PROXY: raw })).toEqual([
      'config: TRUST_PROXY is invalid: must not be true in production: give the hop count or the proxy addresses/CIDRs, or any client can forge X-Forwarded-For and X-Forwarded-Proto',
    ]);
  });

  it.each([
    ['1', 1],
    ['10.0.0.0/8,127.0.0.1', ['10.0.0.0/8', '127.0.0.1']],
    ['false', false],
  ])('should accept TRUST_PROXY=%s in production', (raw, expected) => {
    expect(loadConfig({ ...PRODUCTION, TRUST_PROXY: raw }, BOOT).trustProxy).toEqual(expected);
  });

  it.each(['off', 'OFF', ' off '])(
    'should leave /metrics open with METRICS_AUTH=%s, production included',
    (raw) => {
      expect(loadConfig({ ...PRODUCTION, METRICS_AUTH: raw }, BOOT).metricsAuth).toBeUndefined();
      expect(loadConfig({ METRICS_AUTH: raw }, BOOT).metricsAuth).toBeUndefined();
    },
  );

  it('should leave /metrics open with METRICS_AUTH unset outside production', () => {
    expect(loadConfig({}, BOOT).metricsAuth).toBeUndefined();
  });

  it('should refuse SIGNATURE_MODE=report without SIGNATURE_REPORT_UNTIL in production', () => {
    expect(problemsOf({ ...PRODUCTION, SIGNATURE_MODE: 'report' })).toEqual([
      'config: SIGNATURE_REPORT_UNTIL is required in production when SIGNATURE_MODE=report: expected an ISO-8601 date at most 7 days ahead',
    ]);
  });

  it.each([3, 7])(
    'should boot in production in report mode until %i days ahead, and say so',
    (days) => {
      const until = daysAfterBoot(days);
      const config = loadConfig(
        { ...PRODUCTION, SIGNATURE_MODE: 'report', SIGNATURE_REPORT_UNTIL: until },
        BOOT,
      );
      expect(config.signatureMode).toBe('report');
      expect(config.signatureReportUntil).toEqual(new Date(until));
      expect(effectiveSignatureMode(config, BOOT)).toBe('report');
      expect(configWarnings(config, BOOT)).toEqual([
        `config: SIGNATURE_MODE is report until ${until} (SIGNATURE_REPORT_UNTIL): webhook signature failures are counted but let through, then enforced`,
      ]);
    },
  );

  it('should refuse report mode more than 7 days ahead in production', () => {
    expect(
      problemsOf({
        ...PRODUCTION,
        SIGNATURE_MODE: 'report',
        SIGNATURE_REPORT_UNTIL: daysAfterBoot(8),
      }),
    ).toEqual([
      'config: SIGNATURE_REPORT_UNTIL is invalid: must be at most 7 days ahead in production: report mode is a migration step, not a state',
    ]);
  });

  it('should boot in production with a past SIGNATURE_REPORT_UNTIL, enforce, and warn once', () => {
    const until = daysAfterBoot(-2);
    const config = loadConfig(
      { ...PRODUCTION, SIGNATURE_MODE: 'report', SIGNATURE_REPORT_UNTIL: until },
      BOOT,
    );
    expect(effectiveSignatureMode(config, BOOT)).toBe('enforce');
    expect(configWarnings(config, BOOT)).toEqual([
      `config: SIGNATURE_REPORT_UNTIL (${until}) has passed: enforcing webhook signatures; set SIGNATURE_MODE=enforce and remove SIGNATURE_REPORT_UNTIL`,
    ]);
  });

  it('should ignore SIGNATURE_REPORT_UNTIL in enforce mode, however far ahead', () => {
    const config = loadConfig({ ...PRODUCTION, SIGNATURE_REPORT_UNTIL: daysAfterBoot(30) }, BOOT);
    expect(effectiveSignatureMode(config, BOOT)).toBe('enforce');
    expect(configWarnings(config, BOOT)).toEqual([]);
  });

  it('should allow report mode without an end outside production, and warn', () => {
    const config = loadConfig({ SIGNATURE_MODE: 'report' }, BOOT);
    expect(config.signatureReportUntil).toBeUndefined();
    expect(effectiveSignatureMode(config, new Date(BOOT.getTime() + 365 * DAY_MS))).toBe('report');
    expect(configWarnings(config, BOOT)).toEqual([
      'config: SIGNATURE_MODE is report with no SIGNATURE_REPORT_UNTIL: webhook signature failures are counted but let through (production refuses this)',
    ]);
  });

  it('should allow report mode further than 7 days ahead outside production', () => {
    const until = daysAfterBoot(30);
    const config = loadConfig({ SIGNATURE_MODE: 'report', SIGNATURE_REPORT_UNTIL: until }, BOOT);
    expect(config.signatureReportUntil).toEqual(new Date(until));
  });

  it.each([
    ['2025-03-12', '2025-03-12T00:00:00.000Z'],
    ['2025-03-12T18:00Z', '2025-03-12T18:00:00.000Z'],
    ['2025-03-12T18:00:30.25+02:00', '2025-03-12T16:00:30.250Z'],
    ['2025-03-12T01:00:00-05:30', '2025-03-12T06:30:00.000Z'],
    [' 2024-02-29 ', '2024-02-29T00:00:00.000Z'],
  ])('should read SIGNATURE_REPORT_UNTIL=%s as %s', (raw, expected) => {
    const config = loadConfig({ SIGNATURE_REPORT_UNTIL: raw }, BOOT);
    expect(config.signatureReportUntil?.toISOString()).toBe(expected);
  });

  it.each([
    '2025-02-30',
    '2025-02-29',
    '2025-13-01',
    '2025-03-12T18:00',
    '2025-03-12T24:00Z',
    '2025-03-12T18:00+25:00',
    '12/03/2025',
    '2025-03-12 18:00Z',
    '1741780800',
  ])('should refuse SIGNATURE_REPORT_UNTIL=%s in any environment', (raw) => {
    const expected =
      'config: SIGNATURE_REPORT_UNTIL is invalid: expected an ISO-8601 date (2025-01-31) or date-time with offset (2025-01-31T18:00:00Z)';
    expect(problemsOf({ SIGNATURE_REPORT_UNTIL: raw })).toEqual([expected]);
    expect(
      problemsOf({ ...PRODUCTION, SIGNATURE_MODE: 'report', SIGNATURE_REPORT_UNTIL: raw }),
    ).toEqual([expected]);
  });

  it('should never echo a value in the production refusals', () => {
    const env = {
      ...PRODUCTION,
      ADMIN_EMAIL: 'ops@example.com',
      ADMIN_PASSWORD: DEV_ADMIN_PASSWORD,
      TWILIO_AUTH_TOKEN_PREVIOUS: PRODUCTION.TWILIO_AUTH_TOKEN,
      METRICS_AUTH: `leakuser:${DEV_JWT_SECRET}`,
      TRUST_PROXY: 'true',
      SIGNATURE_MODE: 'report',
      SIGNATURE_REPORT_UNTIL: '2099-01-01T00:00:00Z',
    };
    const lines = problemsOf(env);
    expect(lines.map((line) => line.split(' ')[1])).toEqual([
      'TWILIO_AUTH_TOKEN_PREVIOUS',
      'TRUST_PROXY',
      'SIGNATURE_REPORT_UNTIL',
      'ADMIN_PASSWORD',
      'METRICS_AUTH',
    ]);
    const output = lines.join('\n');
    for (const value of [
      DEV_ADMIN_PASSWORD,
      PRODUCTION.TWILIO_AUTH_TOKEN,
      DEV_JWT_SECRET,
      'leakuser',
      '2099',
    ]) {
      expect(output).not.toContain(value);
    }
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
