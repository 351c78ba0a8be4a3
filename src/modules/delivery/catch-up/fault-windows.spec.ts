import {
  ALIVE_GAP_MS,
  heartbeatGap,
  RESTART_GAP_MS,
  SAME_FAULT_MS,
  sameFault,
  SHED_QUIET_MS,
  shedWindow,
  stallGap,
} from './fault-windows';

const at = (ms: number) => new Date(1_800_000_000_000 + ms);

describe('heartbeatGap', () => {
  it.each([
    // previous beat, now, process started → reason or null
    { case: 'the first beat ever', previous: null, now: 0, started: -5_000, want: null },
    { case: 'a beat on time', previous: 0, now: 1_000, started: -60_000, want: null },
    {
      case: 'a running process late by less than ALIVE_GAP_MS (a busy loop)',
      previous: 0,
      now: ALIVE_GAP_MS,
      started: -60_000,
      want: null,
    },
    {
      case: 'a running process that could not beat for longer: PostgreSQL away',
      previous: 0,
      now: ALIVE_GAP_MS + 1,
      started: -60_000,
      want: 'postgres',
    },
    {
      case: 'a new process while another replica beats (rolling restart)',
      previous: 0,
      now: 800,
      started: -1_200,
      want: null,
    },
    {
      case: 'a new process after nobody beat for RESTART_GAP_MS (a crash)',
      previous: 0,
      now: RESTART_GAP_MS + 1,
      started: 500,
      want: 'heartbeat',
    },
    {
      case: 'a new process just within RESTART_GAP_MS',
      previous: 0,
      now: RESTART_GAP_MS,
      started: 500,
      want: null,
    },
  ])('$case → $want', ({ previous, now, started, want }) => {
    const gap = heartbeatGap(previous === null ? null : at(previous), at(now), at(started));
    expect(gap?.reason ?? null).toBe(want);
    if (gap) expect(gap).toEqual({ reason: want, from: at(previous ?? 0), to: at(now) });
  });
});

describe('stallGap', () => {
  it('should see a timer late by more than ALIVE_GAP_MS as a stall, and nothing less', () => {
    expect(stallGap(0, 1_000 + ALIVE_GAP_MS)).toBeNull();
    expect(stallGap(0, 1_001 + ALIVE_GAP_MS)).toEqual({
      reason: 'stall',
      from: new Date(0),
      to: new Date(1_001 + ALIVE_GAP_MS),
    });
  });
});

describe('shedWindow', () => {
  it('should close a shedding window only once no webhook was refused for SHED_QUIET_MS', () => {
    expect(shedWindow(1_000, 9_000, 9_000 + SHED_QUIET_MS - 1)).toBeNull();
    expect(shedWindow(1_000, 9_000, 9_000 + SHED_QUIET_MS)).toEqual({
      reason: 'shedding',
      from: new Date(1_000),
      to: new Date(9_000),
    });
  });
});

describe('sameFault', () => {
  const recorded = { from: at(0), to: at(20_000) };
  it.each([
    { case: 'the same window', from: 0, to: 20_000, same: true },
    {
      case: 'seen by another process a little later',
      from: 3_000,
      to: 20_000 + SAME_FAULT_MS,
      same: true,
    },
    { case: 'ending later than the tolerance', from: 0, to: 20_001 + SAME_FAULT_MS, same: false },
    {
      case: 'starting earlier than the tolerance',
      from: -1 - SAME_FAULT_MS,
      to: 20_000,
      same: false,
    },
    { case: 'a later fault', from: 60_000, to: 70_000, same: false },
  ])('$case → $same', ({ from, to, same }) => {
    expect(sameFault({ reason: 'redis', from: at(from), to: at(to) }, recorded)).toBe(same);
  });
});
