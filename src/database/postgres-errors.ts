// How PostgreSQL's errors (as pg, pg-pool or TypeORM raise them) are told apart: what the API
// answers (common/errors/error-response.ts), whether a write may say "nothing was stored", and
// whether a failed batch may be retried one item at a time.

// SQLSTATEs too_many_connections and cannot_connect_now, and Node's code for a server that
// refuses connections: no connection could be had.
const UNREACHABLE_CODES: ReadonlySet<string> = new Set(['53300', '57P03', 'ECONNREFUSED']);
// ...and query_canceled (what statement_timeout raises).
const UNAVAILABLE_CODES: ReadonlySet<string> = new Set([...UNREACHABLE_CODES, '57014']);
// pg and pg-pool raise these as plain Errors, with no SQLSTATE. The first two (and the codes)
// prove the statement did not run or was rolled back: no connection was made, or the server
// cancelled it.
const NOT_WRITTEN_MESSAGES: ReadonlySet<string> = new Set([
  // pg-pool: no connection became free within connectionTimeoutMillis.
  'timeout exceeded when trying to connect',
  // pg-pool: opening a new connection took longer than that.
  'Connection terminated due to connection timeout',
]);
const UNAVAILABLE_MESSAGES: ReadonlySet<string> = new Set([
  ...NOT_WRITTEN_MESSAGES,
  // pg: query_timeout, the server stopped answering (the statement may still commit).
  'Query read timeout',
]);

/** PostgreSQL's SQLSTATE of an error, as pg or TypeORM's QueryFailedError carries it. */
export function sqlStateOf(exception: unknown): string | undefined {
  if (typeof exception !== 'object' || exception === null) return undefined;
  const { code, driverError } = exception as { code?: unknown; driverError?: { code?: unknown } };
  const sqlState = typeof code === 'string' ? code : driverError?.code;
  return typeof sqlState === 'string' ? sqlState : undefined;
}

/**
 * A value PostgreSQL cannot store: class 22 (data exception: a NUL byte, an overflow) and 54000
 * (a value too big for an index row). What the client sent cannot be stored, whatever we retry.
 */
export function isDataException(exception: unknown): boolean {
  const sqlState = sqlStateOf(exception);
  return sqlState !== undefined && (/^22[0-9A-Z]{3}$/.test(sqlState) || sqlState === '54000');
}

/**
 * Errors one item of a batch can cause on its own: a value the database refuses (class 22), an
 * integrity violation (class 23, e.g. a SID another message already holds) or a lost deadlock
 * (40P01: two batches took the same unique keys in opposite orders). Written one at a time,
 * only that item fails.
 */
export function mayBelongToOneItem(error: unknown): boolean {
  const sqlState = sqlStateOf(error);
  return (
    isDataException(error) ||
    (sqlState !== undefined && (sqlState.startsWith('23') || sqlState === '40P01'))
  );
}

/**
 * The database was unavailable AND nothing was written: the write can be answered "not stored,
 * retry" without risking a second copy. A client-side read timeout is excluded (its statement
 * may still commit); so is everything else.
 */
export function isNotWritten(error: unknown): boolean {
  return databaseFailure(error, UNAVAILABLE_CODES, NOT_WRITTEN_MESSAGES);
}

/**
 * No connection could be had at all (refused, too many, pool wait over): retrying the items of a
 * failed batch one at a time would only fail each of them again, slowly.
 */
export function isDatabaseUnreachable(error: unknown): boolean {
  return databaseFailure(error, UNREACHABLE_CODES, NOT_WRITTEN_MESSAGES);
}

// The connection went away under a statement: the server shut down or crashed (admin_shutdown,
// crash_shutdown), the socket broke (connection_failure and kin, a reset). The statement may or
// may not have committed.
const CONNECTION_LOST_CODES: ReadonlySet<string> = new Set([
  '57P01',
  '57P02',
  '08000',
  '08003',
  '08006',
  'ECONNRESET',
  'EPIPE',
]);
const CONNECTION_LOST_MESSAGES: ReadonlySet<string> = new Set([
  'Connection terminated unexpectedly',
  'Connection terminated',
]);
// Gone: lost under a statement, refused, starting up, out of connections, or a new connection
// that never completed. Not a full pool of our own (a wait for one of our connections is a
// leak or a lock on a write path: still a 500 there).
const GONE_CODES: ReadonlySet<string> = new Set([...CONNECTION_LOST_CODES, ...UNREACHABLE_CODES]);
const GONE_MESSAGES: ReadonlySet<string> = new Set([
  ...CONNECTION_LOST_MESSAGES,
  'Connection terminated due to connection timeout',
]);

/**
 * The database went away under the request, or could not be reached at all: an outage, not a
 * bug — answered 503 on every route (common/errors/error-response.ts). Whether a write happened
 * is not known (see isNotWritten for the cases where it certainly did not).
 */
export function isDatabaseGone(error: unknown): boolean {
  return databaseFailure(error, GONE_CODES, GONE_MESSAGES);
}

/** A statement timeout, a full pool or an unreachable server, however TypeORM or pg wrap it. */
export function isDatabaseUnavailable(error: unknown): boolean {
  return databaseFailure(error, UNAVAILABLE_CODES, UNAVAILABLE_MESSAGES);
}

/** Whether the error or one of its causes (TypeORM's driverError, pg's cause) is one of these. */
function databaseFailure(
  error: unknown,
  codes: ReadonlySet<string>,
  messages: ReadonlySet<string>,
): boolean {
  let current = error;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth += 1) {
    const { code, message, driverError, cause } = current as {
      code?: unknown;
      message?: unknown;
      driverError?: unknown;
      cause?: unknown;
    };
    if (typeof code === 'string' && codes.has(code)) return true;
    if (typeof message === 'string' && messages.has(message)) return true;
    current = driverError ?? cause;
  }
  return false;
}
