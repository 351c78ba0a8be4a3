import {
  CALLBACK_LAG_HOLD_MS,
  CALLBACK_REPORT_STALE_MS,
  callbacksBehind,
  reserve,
} from './send-pacing';

describe('reserve (a sender paced at N a second)', () => {
  it.each([
    // nextFreeAt, now, perSecond, horizon → waitMs, nextFreeAt, reserved
    { next: 0, now: 1_000, rate: 80, want: { waitMs: 0, nextFreeAt: 1_012.5, reserved: true } },
    {
      next: 1_012.5,
      now: 1_000,
      rate: 80,
      want: { waitMs: 12.5, nextFreeAt: 1_025, reserved: true },
    },
    { next: 900, now: 1_000, rate: 10, want: { waitMs: 0, nextFreeAt: 1_100, reserved: true } },
    {
      next: 3_000,
      now: 1_000,
      rate: 10,
      want: { waitMs: 2_000, nextFreeAt: 3_100, reserved: true },
    },
    {
      next: 3_500,
      now: 1_000,
      rate: 10,
      want: { waitMs: 500, nextFreeAt: 3_500, reserved: false },
    },
  ])('next free $next at $now, $rate/s', ({ next, now, rate, want }) => {
    expect(reserve(next, now, rate, 2_000)).toEqual(want);
  });

  it('should space a burst of reservations 1000 / N ms apart', () => {
    let nextFreeAt = 0;
    const waits: number[] = [];
    for (let i = 0; i < 50; i += 1) {
      const slot = reserve(nextFreeAt, 10_000, 25, 5_000);
      expect(slot.reserved).toBe(true);
      waits.push(slot.waitMs);
      nextFreeAt = slot.nextFreeAt;
    }
    expect(waits.slice(0, 3)).toEqual([0, 40, 80]);
    expect(waits[49]).toBe(49 * 40);
  });
});

describe('callbacksBehind', () => {
  const now = 100_000;
  it.each([
    { reports: [], behind: false },
    { reports: [{ lagMs: CALLBACK_LAG_HOLD_MS - 1, at: now }], behind: false },
    { reports: [{ lagMs: CALLBACK_LAG_HOLD_MS, at: now }], behind: true },
    {
      reports: [
        { lagMs: 10, at: now },
        { lagMs: 5_000, at: now - 200 },
      ],
      behind: true,
    },
    // A report its process stopped renewing says nothing.
    { reports: [{ lagMs: 60_000, at: now - CALLBACK_REPORT_STALE_MS - 1 }], behind: false },
    { reports: [{ lagMs: 60_000, at: now - CALLBACK_REPORT_STALE_MS }], behind: true },
  ])('$reports → $behind', ({ reports, behind }) => {
    expect(callbacksBehind(reports, now)).toBe(behind);
  });
});
