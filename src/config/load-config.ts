import type { AppConfig, LogLevel, NodeEnv, Role, SignatureMode } from './app-config';
import { ConfigError, EnvReader, type Env } from './env-reader';
import {
  parseChoice,
  parseInteger,
  parseIsoDate,
  parseMetricsAuth,
  parseMinLength,
  parsePattern,
  parseSecondsList,
  parseSwitch,
  parseTrustProxy,
  parseUrl,
  stripSlash,
  type TrustProxy,
} from './env.parsers';
import {
  DEV_ADMIN_EMAIL,
  DEV_ADMIN_PASSWORD,
  DEV_DATABASE_URL,
  DEV_JWT_SECRET,
  DEV_REDIS_URL,
  DEV_SECRETS,
  DEV_TWILIO_ACCOUNT_SID,
  DEV_TWILIO_AUTH_TOKEN,
  DEV_WHATSAPP_FROM,
} from './dev-defaults';

// Production accepts SIGNATURE_MODE=report only with an end this close (a migration step).
const SIGNATURE_REPORT_MAX_MS = 7 * 86_400_000;

const NODE_ENVS: readonly NodeEnv[] = ['development', 'production', 'test'];
const ROLES: readonly Role[] = ['api', 'worker', 'all'];
const SIGNATURE_MODES: readonly SignatureMode[] = ['enforce', 'report'];
const LOG_LEVELS: readonly LogLevel[] = [
  'trace',
  'debug',
  'info',
  'warn',
  'error',
  'fatal',
  'silent',
];

const int = (min: number, max: number) => (raw: string) => parseInteger(raw, min, max);
const url =
  (...protocols: string[]) =>
  (raw: string) =>
    parseUrl(raw, protocols).toString();
const secret = (min: number) => (raw: string) => parseMinLength(raw, min);

/**
 * Validates the whole environment and returns the typed config, or throws a ConfigError listing
 * every bad variable. Outside production every variable has a default, so `npm run dev` needs no
 * `.env`. `now` is the boot time, which SIGNATURE_REPORT_UNTIL is checked against.
 */
export function loadConfig(env: Env, now: Date = new Date()): AppConfig {
  const reader = new EnvReader(env);
  const nodeEnv = reader.value('NODE_ENV', (raw) => parseChoice(raw, NODE_ENVS), 'development');
  const production = nodeEnv === 'production';
  const dev = (value: string): string | undefined => (production ? undefined : value);

  const port = reader.value('PORT', int(0, 65535), '5000');
  const localUrl = `http://127.0.0.1:${port ?? 5000}`;
  const twilio = readTwilio(reader, production);
  const signatureMode = reader.value(
    'SIGNATURE_MODE',
    (raw) => parseChoice(raw, SIGNATURE_MODES),
    'enforce',
  );
  const config: AppConfig = {
    nodeEnv,
    isProduction: production,
    port,
    role: reader.value('ROLE', (raw) => parseChoice(raw, ROLES), 'all'),
    database: {
      url: reader.value('DATABASE_URL', url('postgres', 'postgresql'), dev(DEV_DATABASE_URL)),
      poolSize: reader.value('DB_POOL_SIZE', int(1, 200), '10'),
      readStatementTimeoutMs: 5_000,
      readWaitMs: 2_000,
    },
    redis: readRedis(reader, dev(DEV_REDIS_URL)),
    twilio,
    simulator: {
      port: reader.value('SIMULATOR_PORT', int(0, 65535), '4010'),
      // 127.0.0.1 keeps it off the network; 0.0.0.0 serves other containers (docker compose).
      host: reader.value(
        'SIMULATOR_HOST',
        (raw) =>
          parsePattern(
            raw,
            /^(?:\d{1,3}(?:\.\d{1,3}){3}|::|::1|[A-Za-z0-9-]{1,63})$/,
            'an IP address or a host name',
          ),
        '127.0.0.1',
      ),
      deliverTo: reader.value(
        'SIMULATOR_DELIVER_TO',
        (raw) => stripSlash(url('http', 'https')(raw)),
        localUrl,
      ),
    },
    publicBaseUrl: readPublicBaseUrl(reader, production, localUrl),
    trustProxy: readTrustProxy(reader, production),
    signatureMode,
    signatureReportUntil: readSignatureReportUntil(reader, production, signatureMode, now),
    jwt: {
      secret: readDevRefused(reader, 'JWT_SECRET', secret(32), DEV_JWT_SECRET, production),
      ttlSeconds: reader.value('JWT_TTL', int(60, 86_400), '900'),
    },
    admin: readAdmin(reader, production),
    limits: {
      loginPerIp: reader.value('LOGIN_LIMIT_PER_IP', int(1, 1_000_000), '10'),
      loginPerEmail: reader.value('LOGIN_LIMIT_PER_EMAIL', int(1, 1_000_000), '5'),
      sendPerUserPerSecond: reader.value('SEND_RATE_LIMIT', int(1, 1_000_000), '100'),
      readPerUserPerSecond: reader.value('READ_RATE_LIMIT', int(1, 1_000_000), '20'),
      webhookUnsignedPerIp: reader.value('WEBHOOK_UNSIGNED_LIMIT', int(1, 1_000_000), '200'),
      twilioMps: reader.value('TWILIO_MPS', int(0, 100_000), '80'),
    },
    sending: {
      maxAttempts: reader.value('SEND_MAX_ATTEMPTS', int(1, 100), '8'),
      enqueueTimeoutMs: reader.value('ENQUEUE_TIMEOUT_MS', int(10, 60_000), '500'),
      windowCheck: reader.value('WINDOW_CHECK', parseSwitch, 'on'),
      retryBaseMs: 15_000,
      retryMaxMs: 15 * 60_000,
      dispatchStaleMs: 30_000,
      sweepEveryMs: 5_000,
      sweepGraceMs: 5_000,
      workerConcurrency: 32,
    },
    delivery: {
      stuckAfterSeconds: reader.value('STUCK_AFTER', int(1, 30 * 86_400), '600'),
      reconcileEverySeconds: reader.value('RECONCILE_EVERY', int(1, 86_400), '30'),
      reconcileAfterSeconds: reader.value('RECONCILE_AFTER', int(0, 30 * 86_400), '120'),
      reconcileBackoffSeconds: [300, 900, 3_600, 21_600, 86_400],
      reconcileGiveUpSeconds: 7 * 86_400,
      catchUp: true,
      reconcileRead: reader.value('RECONCILE_READ', parseSwitch, 'off'),
      retentionDays: reader.value('RETENTION_DAYS', int(1, 3650), '30'),
    },
    shutdownTimeoutMs: reader.value('SHUTDOWN_TIMEOUT_MS', int(0, 600_000), '25000'),
    docsEnabled: reader.value('DOCS_ENABLED', parseSwitch, production ? 'off' : 'on'),
    testErrorRoute: reader.value('TEST_ERROR_ROUTE', parseSwitch, 'off'),
    eventsAllowPrivate: reader.value('EVENTS_ALLOW_PRIVATE', parseSwitch, 'off'),
    events: {
      maxInFlight: reader.value('EVENTS_MAX_IN_FLIGHT', int(1, 1_000), '16'),
      retryScheduleMs: reader.value(
        'EVENTS_RETRY_SCHEDULE',
        (raw) => parseSecondsList(raw, 20, 7 * 86_400),
        '5,300,1800,7200,18000,36000,36000',
      ),
      disableAfterMs:
        reader.value('EVENTS_DISABLE_AFTER', int(1, 30 * 86_400), String(86_400)) * 1000,
      maxRetryAfterMs: 3_600_000,
      timeoutMs: 10_000,
      pollMs: 200,
      secretOverlapMs: 86_400_000,
    },
    logLevel: reader.value('LOG_LEVEL', (raw) => parseChoice(raw, LOG_LEVELS), 'info'),
    sentryDsn: reader.optional('SENTRY_DSN', url('http', 'https')),
    metricsAuth: readMetricsAuth(reader, production),
  };
  if (production && config.testErrorRoute) {
    reader.problem('TEST_ERROR_ROUTE', 'must be off in production');
  }
  if (reader.problems.length > 0) throw new ConfigError(reader.problems);
  return config;
}

function readRedis(reader: EnvReader, devUrl: string | undefined): AppConfig['redis'] {
  const prefix = reader.value(
    'REDIS_PREFIX',
    (raw) => parsePattern(raw, /^[A-Za-z0-9_-]{1,32}$/, '1–32 letters, digits, - or _'),
    'wa',
  );
  return {
    url: reader.value('REDIS_URL', url('redis', 'rediss'), devUrl),
    keyPrefix: `${prefix}:`,
    queuePrefix: `${prefix}-bull`,
  };
}

function readTwilio(reader: EnvReader, production: boolean): AppConfig['twilio'] {
  const accountSid = readDevRefused(
    reader,
    'TWILIO_ACCOUNT_SID',
    (raw) => parsePattern(raw, /^AC[0-9a-fA-F]{32}$/, 'AC followed by 32 hex characters'),
    DEV_TWILIO_ACCOUNT_SID,
    production,
  );
  const authToken = readDevRefused(
    reader,
    'TWILIO_AUTH_TOKEN',
    secret(16),
    DEV_TWILIO_AUTH_TOKEN,
    production,
  );
  const whatsappFrom = reader.optional(
    'TWILIO_WHATSAPP_FROM',
    (raw) =>
      parsePattern(raw, /^whatsapp:\+[1-9]\d{6,14}$/, 'whatsapp:+ followed by an E.164 number'),
    production ? undefined : DEV_WHATSAPP_FROM,
  );
  const messagingServiceSid = reader.optional('TWILIO_MESSAGING_SERVICE_SID', (raw) =>
    parsePattern(raw, /^MG[0-9a-fA-F]{32}$/, 'MG followed by 32 hex characters'),
  );
  if (
    production &&
    whatsappFrom === undefined &&
    messagingServiceSid === undefined &&
    !reader.hasProblem('TWILIO_WHATSAPP_FROM') &&
    !reader.hasProblem('TWILIO_MESSAGING_SERVICE_SID')
  ) {
    reader.problem(
      'TWILIO_WHATSAPP_FROM',
      'is required in production unless TWILIO_MESSAGING_SERVICE_SID is set: expected whatsapp:+E164',
    );
  }
  return {
    accountSid,
    authToken,
    authTokenPrevious: readPreviousAuthToken(reader, authToken, production),
    whatsappFrom,
    messagingServiceSid,
    apiBaseUrl: reader.optional('TWILIO_API_BASE_URL', (raw) =>
      stripSlash(url('http', 'https')(raw)),
    ),
    usingDevCredentials:
      accountSid === DEV_TWILIO_ACCOUNT_SID || authToken === DEV_TWILIO_AUTH_TOKEN,
  };
}

// A secret with a development default that production must replace.
function readDevRefused<T extends string>(
  reader: EnvReader,
  name: string,
  parse: (raw: string) => T,
  devValue: string,
  production: boolean,
): T {
  const value = reader.value(name, parse, production ? undefined : devValue);
  refuseDevSecret(reader, name, value, production);
  return value;
}

// The development secrets are public (.env.example): production must never run on one.
function refuseDevSecret(
  reader: EnvReader,
  name: string,
  value: string | undefined,
  production: boolean,
): void {
  if (production && value !== undefined && DEV_SECRETS.has(value)) {
    reader.problem(name, 'must not be a development default in production');
  }
}

// Outside production a previous token equal to the current one is only pointless (a warning,
// see configWarnings); in production it means the rotation was done wrong.
function readPreviousAuthToken(
  reader: EnvReader,
  authToken: string | undefined,
  production: boolean,
): string | undefined {
  const name = 'TWILIO_AUTH_TOKEN_PREVIOUS';
  const previous = reader.optional(name, secret(16));
  refuseDevSecret(reader, name, previous, production);
  if (production && previous !== undefined && previous === authToken && !reader.hasProblem(name)) {
    reader.problem(
      name,
      'must differ from TWILIO_AUTH_TOKEN in production: it holds the token being rotated out',
    );
  }
  return previous;
}

// `true` trusts every hop, so any client could set its own IP (rate limits) and scheme (HTTPS).
function readTrustProxy(reader: EnvReader, production: boolean): TrustProxy {
  const trustProxy = reader.value('TRUST_PROXY', parseTrustProxy, 'false');
  if (production && trustProxy === true) {
    reader.problem(
      'TRUST_PROXY',
      'must not be true in production: give the hop count or the proxy addresses/CIDRs, ' +
        'or any client can forge X-Forwarded-For and X-Forwarded-Proto',
    );
  }
  return trustProxy;
}

// Report mode is a migration step, not a state: production wants its end, at most 7 days out.
// An end already past is accepted (the process enforces and warns), so a restart after the date
// never crash-loops.
function readSignatureReportUntil(
  reader: EnvReader,
  production: boolean,
  mode: SignatureMode | undefined,
  now: Date,
): Date | undefined {
  const name = 'SIGNATURE_REPORT_UNTIL';
  const until = reader.optional(name, parseIsoDate);
  if (!production || mode !== 'report' || reader.hasProblem(name)) return until;
  if (until === undefined) {
    reader.problem(
      name,
      'is required in production when SIGNATURE_MODE=report: expected an ISO-8601 date at most 7 days ahead',
    );
  } else if (until.getTime() - now.getTime() > SIGNATURE_REPORT_MAX_MS) {
    reader.problem(
      name,
      'must be at most 7 days ahead in production: report mode is a migration step, not a state',
    );
  }
  return until;
}

// Production must choose: credentials, or an explicit `off` for a /metrics left open.
function readMetricsAuth(reader: EnvReader, production: boolean): AppConfig['metricsAuth'] {
  const parsed = production
    ? reader.value('METRICS_AUTH', parseMetricsAuth, undefined)
    : reader.optional('METRICS_AUTH', parseMetricsAuth);
  if (parsed === undefined || parsed === 'off') return undefined;
  refuseDevSecret(reader, 'METRICS_AUTH', parsed.password, production);
  return parsed;
}

function readPublicBaseUrl(reader: EnvReader, production: boolean, localUrl: string): string {
  const parse = url('http', 'https');
  // WEBHOOK_URL from older setups (…/api/v1/whatsapp/webhook): only its origin is used.
  const legacy = reader.optional('WEBHOOK_URL', (raw) => new URL(parse(raw)).origin);
  const value = reader.value(
    'PUBLIC_BASE_URL',
    (raw) => stripSlash(parse(raw)),
    legacy ?? (production ? undefined : localUrl),
  );
  if (production && value !== undefined && !value.startsWith('https://')) {
    reader.problem('PUBLIC_BASE_URL', 'must be an https URL in production');
  }
  return value;
}

function readAdmin(reader: EnvReader, production: boolean): AppConfig['admin'] {
  const email = reader.optional(
    'ADMIN_EMAIL',
    (raw) => parsePattern(raw, /^[^\s@]+@[^\s@]+$/, 'an email address').toLowerCase(),
    production ? undefined : DEV_ADMIN_EMAIL,
  );
  const password = reader.optional(
    'ADMIN_PASSWORD',
    secret(12),
    production ? undefined : DEV_ADMIN_PASSWORD,
  );
  refuseDevSecret(reader, 'ADMIN_PASSWORD', password, production);
  if ((email === undefined) !== (password === undefined)) {
    const missing = email === undefined ? 'ADMIN_EMAIL' : 'ADMIN_PASSWORD';
    if (!reader.hasProblem(missing)) {
      reader.problem(missing, 'is required when the other ADMIN_ variable is set');
    }
  }
  return { email, password };
}
