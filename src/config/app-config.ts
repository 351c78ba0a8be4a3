import type { TrustProxy } from './env.parsers';

export type NodeEnv = 'development' | 'production' | 'test';
export type Role = 'api' | 'worker' | 'all';
export type SignatureMode = 'enforce' | 'report';
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

/** The whole validated environment. Built once at boot by `loadConfig`. */
export interface AppConfig {
  nodeEnv: NodeEnv;
  isProduction: boolean;
  port: number;
  role: Role;
  database: {
    url: string;
    /** DB_POOL_SIZE: this process's connections, split between API reads and the rest. */
    poolSize: number;
    /** Statement timeout of the API read pool (messages, delivery-metrics). Not an env var. */
    readStatementTimeoutMs: number;
    /** How long an API read waits for a read-pool connection before a 503. Not an env var. */
    readWaitMs: number;
  };
  redis: {
    url: string;
    /** Prefix of every Redis key the app writes (tests give each file its own). */
    keyPrefix: string;
    /** BullMQ's queue prefix (tests give each file its own). */
    queuePrefix: string;
  };
  twilio: {
    accountSid: string;
    authToken: string;
    authTokenPrevious: string | undefined;
    whatsappFrom: string | undefined;
    messagingServiceSid: string | undefined;
    /** Unset outside production = the built-in simulator. */
    apiBaseUrl: string | undefined;
    /** True when the credentials are the fixed development ones. */
    usingDevCredentials: boolean;
  };
  simulator: {
    port: number;
    /** The address the simulator listens on. */
    host: string;
    deliverTo: string;
  };
  publicBaseUrl: string;
  trustProxy: TrustProxy;
  signatureMode: SignatureMode;
  /**
   * SIGNATURE_REPORT_UNTIL: when report mode ends. Past it, the process enforces signatures
   * whatever SIGNATURE_MODE says (report mode is a migration step, not a state).
   */
  signatureReportUntil: Date | undefined;
  jwt: {
    secret: string;
    ttlSeconds: number;
  };
  admin: {
    email: string | undefined;
    password: string | undefined;
  };
  limits: {
    loginPerIp: number;
    loginPerEmail: number;
    sendPerUserPerSecond: number;
    /** READ_RATE_LIMIT: API read requests per user per second. */
    readPerUserPerSecond: number;
    webhookUnsignedPerIp: number;
    twilioMps: number;
  };
  sending: {
    maxAttempts: number;
    enqueueTimeoutMs: number;
    windowCheck: boolean;
    /** First retry's backoff ceiling; doubles each attempt (full jitter). Not an env var. */
    retryBaseMs: number;
    retryMaxMs: number;
    /** A `dispatching` row older than this belongs to a dead worker. Not an env var. */
    dispatchStaleMs: number;
    /** How often the worker's sweeper looks for rows whose job is missing. Not an env var. */
    sweepEveryMs: number;
    /** A `pending` row due this long ago without a job is re-queued. Not an env var. */
    sweepGraceMs: number;
    /** Jobs one worker process runs at once. Not an env var. */
    workerConcurrency: number;
  };
  delivery: {
    stuckAfterSeconds: number;
    reconcileEverySeconds: number;
    /** RECONCILE_AFTER: a message's first look comes this long after its last change. */
    reconcileAfterSeconds: number;
    /**
     * The gaps between later looks, growing while the message stays unchanged; the last one
     * repeats. Not an env var.
     */
    reconcileBackoffSeconds: number[];
    /** A message not final this long after its creation is no longer looked at. Not an env var. */
    reconcileGiveUpSeconds: number;
    /**
     * Heartbeats, fault windows and the catch-up after them (delivery/catch-up). Not an env
     * var: always on in a deployment; tests that share one database among many apps turn it off
     * except where they test it.
     */
    catchUp: boolean;
    reconcileRead: boolean;
    retentionDays: number;
  };
  shutdownTimeoutMs: number;
  docsEnabled: boolean;
  testErrorRoute: boolean;
  eventsAllowPrivate: boolean;
  events: {
    /** EVENTS_MAX_IN_FLIGHT: deliveries in flight per subscription, across replicas. */
    maxInFlight: number;
    /** EVENTS_RETRY_SCHEDULE: delay before each retry, ms (the last entry ends the retries). */
    retryScheduleMs: number[];
    /** EVENTS_DISABLE_AFTER: a subscription failing this long without a success is disabled. */
    disableAfterMs: number;
    /** The longest Retry-After honoured. Not an env var. */
    maxRetryAfterMs: number;
    /** A delivery attempt's whole time bound. Not an env var. */
    timeoutMs: number;
    /** How often an idle dispatcher looks for new events. Not an env var. */
    pollMs: number;
    /** How long the previous secret still signs after a rotation. Not an env var. */
    secretOverlapMs: number;
  };
  logLevel: LogLevel;
  sentryDsn: string | undefined;
  /** Basic auth for /metrics; undefined = open (METRICS_AUTH=off, or unset outside production). */
  metricsAuth: { user: string; password: string } | undefined;
}
