/**
 * The send budget's decisions, as pure functions over numbers (send-budget.ts runs them; the
 * per-sender reservation runs the same arithmetic inside Redis, see RESERVE in send-budget.ts).
 */

import type { CallbackPressure } from '../../../redis/callback-pressure';

/**
 * Sends hold while any api process reports its callback path this far behind: the status
 * callbacks of messages sent now would queue behind the ones it has not committed yet.
 * Twilio waits 15 s for a callback's answer; a second of lag is far from that and far above a
 * healthy process's (tens of ms).
 */
export const CALLBACK_LAG_HOLD_MS = 1_000;
/** A report older than this is ignored: its process stopped or cannot reach Redis. */
export const CALLBACK_REPORT_STALE_MS = 3_000;

/** Whether the callback path is behind: a fresh report over the hold threshold. */
export function callbacksBehind(reports: readonly CallbackPressure[], now: number): boolean {
  return reports.some(
    (report) => now - report.at <= CALLBACK_REPORT_STALE_MS && report.lagMs >= CALLBACK_LAG_HOLD_MS,
  );
}

/** A sender's pacing state: the earliest time its next send may go (ms; GCRA's "theoretical arrival time"). */
export interface Reservation {
  /** How long the caller waits before sending (ms). */
  waitMs: number;
  /** The next free slot after this one; unchanged when nothing was reserved. */
  nextFreeAt: number;
  /** False when the slot lies beyond the horizon: wait `waitMs`, then ask again. */
  reserved: boolean;
}

/**
 * One send of a sender paced at `perSecond`: the slot is the later of now and the sender's next
 * free slot; sends are spaced 1000 / perSecond ms apart, so any second holds at most
 * `perSecond` (the spacing is exact, not a window that lets two seconds' worth through at a
 * boundary). A slot further than `horizonMs` ahead is not taken: a caller that died while waiting
 * would leave a hole in the sender's rate, so it waits and asks again instead.
 */
export function reserve(
  nextFreeAt: number,
  now: number,
  perSecond: number,
  horizonMs: number,
): Reservation {
  const slot = Math.max(nextFreeAt, now);
  const waitMs = slot - now;
  if (waitMs > horizonMs) return { waitMs: waitMs - horizonMs, nextFreeAt, reserved: false };
  return { waitMs, nextFreeAt: slot + 1000 / perSecond, reserved: true };
}
