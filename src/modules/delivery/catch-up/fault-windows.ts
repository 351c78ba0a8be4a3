/**
 * When our own faults may have cost callbacks, as pure decisions (FaultWatchService runs them,
 * CatchUpService acts on the windows). Twilio does not resend a status callback beyond a URL's
 * own quick retries, so a callback that reached us while we could not commit it is lost; the
 * reconciler looks, soon, at every message that could have had one in the window.
 */

/** Why a catch-up window was recorded (the log's and the table's `reason`). */
export type CatchUpReason = 'heartbeat' | 'postgres' | 'redis' | 'shedding' | 'stall';

export interface FaultWindow {
  reason: CatchUpReason;
  from: Date;
  to: Date;
}

/** How often each process beats. */
export const HEARTBEAT_EVERY_MS = 1_000;
/**
 * A process's first beats find the role's previous beat older than this: nobody of its role was
 * beating while it started (a crash, or a restart with no other replica up). Callbacks to a
 * process that is not listening are refused, and Twilio's few quick retries are soon spent: any
 * such gap may have cost some. In a rolling restart the other replicas go on beating.
 */
export const RESTART_GAP_MS = 1_500;
/**
 * A process that was running through a gap longer than this could not write its beat: PostgreSQL
 * away (or every process of the role stalled). Shorter cuts show up as shedding (the webhooks
 * answered 503); a beat merely late behind a busy event loop loses nothing, since Twilio waits
 * 15 s for a callback's answer.
 */
export const ALIVE_GAP_MS = 10_000;
/** Shedding is over once no webhook was refused for this long. */
export const SHED_QUIET_MS = 5_000;
/**
 * A window covers the messages that changed this long before it began, or later: ones that
 * had been quiet longer are on the reconciler's own schedule (a callback arriving for them in
 * exactly this window is rare, and their next scheduled look heals it).
 */
export const LOOKBACK_SECONDS = 3_600;
/**
 * Delivered messages without a read are covered when delivered this long before the window, or
 * later: reads mostly follow deliveries within minutes, and many never come (read receipts off),
 * which an hour's worth would fetch for nothing.
 */
export const READ_LOOKBACK_SECONDS = 600;

/**
 * A role's beat, with the previous one (null: the first ever) on the database's clock, and
 * whether this process is still within its first beats (it started after the previous beat):
 * a gap, with its reason, or null.
 */
export function heartbeatGap(
  previous: Date | null,
  now: Date,
  processStartedAt: Date,
): FaultWindow | null {
  if (previous === null) return null;
  const gapMs = now.getTime() - previous.getTime();
  const restarted = processStartedAt.getTime() >= previous.getTime();
  if (restarted ? gapMs <= RESTART_GAP_MS : gapMs <= ALIVE_GAP_MS) return null;
  return { reason: restarted ? 'heartbeat' : 'postgres', from: previous, to: now };
}

/** This process's timer ran late by more than ALIVE_GAP_MS: its event loop stalled that long. */
export function stallGap(lastTickAt: number, now: number): FaultWindow | null {
  if (now - lastTickAt <= HEARTBEAT_EVERY_MS + ALIVE_GAP_MS) return null;
  return { reason: 'stall', from: new Date(lastTickAt), to: new Date(now) };
}

/** Webhooks refused (503) since `first`, the last at `last`: a window once quiet for SHED_QUIET_MS. */
export function shedWindow(first: number, last: number, now: number): FaultWindow | null {
  if (now - last < SHED_QUIET_MS) return null;
  return { reason: 'shedding', from: new Date(first), to: new Date(last) };
}

/** Windows this close to one already recorded are the same fault, seen by another process or role. */
export const SAME_FAULT_MS = 5_000;

/** Whether `window` is already covered by `recorded` (within SAME_FAULT_MS at both ends). */
export function sameFault(window: FaultWindow, recorded: { from: Date; to: Date }): boolean {
  return (
    recorded.from.getTime() <= window.from.getTime() + SAME_FAULT_MS &&
    recorded.to.getTime() >= window.to.getTime() - SAME_FAULT_MS
  );
}
