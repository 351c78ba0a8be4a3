import type { Logger } from 'pino';
import type { AppConfig } from '../../config/app-config';
import { scrubBreadcrumb, scrubEvent, secretsOf } from './error-scrubber';

type SentrySdk = typeof import('@sentry/nestjs');

/**
 * Default integrations left out. Nest: proxies around guards, pipes, interceptors and filters for
 * spans (tracing is off), and @Processor handlers wrapped to report every job error untagged; we
 * report from the filter and the processor ourselves. Console: our logs go through pino, and a stray console line may carry anything. LocalVariables*:
 * a frame's variables hold phone numbers and tokens. ProcessSession: no release health. Http and
 * OnUnhandledRejection are added back below with our options.
 */
const LEFT_OUT: ReadonlySet<string> = new Set([
  'Nest',
  'Console',
  'LocalVariables',
  'LocalVariablesAsync',
  'ProcessSession',
  'Http',
  'OnUnhandledRejection',
]);

/** The loaded SDK once initialised; undefined when SENTRY_DSN is unset (it is never loaded). */
let sdk: SentrySdk | undefined;
let initialisedDsn: string | undefined;

/**
 * Starts error tracking when SENTRY_DSN is set; without it the SDK is never even loaded. No
 * tracing (no tracesSampleRate, so none of the SDK's pg/ioredis/fastify instrumentation), no
 * trace headers on outgoing requests, no request bodies, no sessions; every event and
 * breadcrumb goes through the scrubber. Safe to call again (tests build several apps).
 */
export async function initErrorTracking(config: AppConfig, logger: Logger): Promise<void> {
  const dsn = config.sentryDsn;
  if (dsn === undefined || (sdk !== undefined && initialisedDsn === dsn)) return;
  const Sentry = await import('@sentry/nestjs');
  const secrets = secretsOf(config);
  Sentry.init({
    dsn,
    environment: config.nodeEnv,
    sendDefaultPii: false,
    includeLocalVariables: false,
    tracePropagationTargets: [],
    initialScope: { tags: { role: config.role } },
    beforeSend: (event) => scrubEvent(event, secrets),
    beforeBreadcrumb: (breadcrumb) => scrubBreadcrumb(breadcrumb, secrets),
    integrations: (defaults) => [
      ...defaults.filter((integration) => !LEFT_OUT.has(integration.name)),
      Sentry.httpIntegration({
        spans: false,
        tracePropagation: false,
        trackIncomingRequestsAsSessions: false,
        maxIncomingRequestBodySize: 'none',
        ignoreIncomingRequestBody: () => true,
      }),
      // Node's own behaviour (exit 1) after the report; the SDK's default only warns.
      Sentry.onUnhandledRejectionIntegration({ mode: 'strict' }),
    ],
  });
  sdk = Sentry;
  initialisedDsn = dsn;
  // The DSN's host only: its key identifies the project.
  logger.info({ errorTracking: 'sentry', host: new URL(dsn).host }, 'Error tracking on');
}

/**
 * Reports an unexpected error (a 500, a failed job) with tags such as requestId, errorId,
 * messageId. A no-op without SENTRY_DSN. Expected errors (4xx, classified Twilio failures) are
 * never passed here.
 */
export function reportError(
  error: unknown,
  tags: Readonly<Record<string, string | number | undefined>> = {},
): void {
  if (sdk === undefined) return;
  const defined = Object.entries(tags).filter(
    (entry): entry is [string, string | number] => entry[1] !== undefined,
  );
  sdk.captureException(error, { tags: Object.fromEntries(defined) });
}

/** Sends what is still queued, waiting at most `timeoutMs` (graceful shutdown, failed boot). */
export async function closeErrorTracking(timeoutMs: number): Promise<void> {
  const current = sdk;
  if (current === undefined) return;
  sdk = undefined;
  initialisedDsn = undefined;
  await current.close(timeoutMs);
}
