import {
  decideOutboxMove,
  decideTransition,
  eventOrder,
  OUTBOX_MOVES,
  outboxMoveTo,
  isFinal,
  notFinalSql,
  OUTBOUND_STATUSES,
  stagesProvedBy,
} from './status-machine';

// The expected decision for every (current, incoming) pair, written out from the rules of
// docs/architecture.md §3.
const RANK: Record<string, number> = {
  pending: 0,
  dispatching: 1,
  accepted: 2,
  scheduled: 2,
  queued: 3,
  sending: 4,
  sent: 5,
  delivered: 6,
  read: 7,
};
const FAILURES = ['failed', 'undelivered', 'canceled'];

function expected(current: string, incoming: string): { applies: boolean; anomaly: boolean } {
  if (FAILURES.includes(current)) return { applies: false, anomaly: false };
  if (FAILURES.includes(incoming)) {
    return RANK[current] < 6
      ? { applies: true, anomaly: false }
      : { applies: false, anomaly: true };
  }
  return { applies: RANK[incoming] > RANK[current], anomaly: false };
}

const PAIRS = OUTBOUND_STATUSES.flatMap((current) =>
  OUTBOUND_STATUSES.map((incoming) => [current, incoming]),
);

describe('decideTransition', () => {
  it('should cover all 144 (current, incoming) pairs', () => {
    expect(PAIRS).toHaveLength(144);
  });

  it.each(PAIRS)('%s ← %s', (current, incoming) => {
    expect(decideTransition(current, incoming)).toEqual(expected(current, incoming));
  });

  it.each([
    ['delivered', 'sent', false],
    ['read', 'delivered', false],
    ['sent', 'read', true],
    ['queued', 'failed', true],
    ['sent', 'undelivered', true],
    ['failed', 'sent', false],
    ['dispatching', 'queued', true],
    ['dispatching', 'accepted', true],
    ['accepted', 'scheduled', false],
  ])(
    'should decide the cases people get wrong: %s ← %s applies=%s',
    (current, incoming, applies) => {
      expect(decideTransition(current, incoming).applies).toBe(applies);
    },
  );

  it('should flag a failure after delivery as an anomaly, not apply it', () => {
    expect(decideTransition('delivered', 'failed')).toEqual({ applies: false, anomaly: true });
    expect(decideTransition('read', 'undelivered')).toEqual({ applies: false, anomaly: true });
  });

  it.each([['received'], ['partially_delivered'], ['bogus']])(
    'should never apply the unknown status %s',
    (status) => {
      for (const current of OUTBOUND_STATUSES)
        expect(decideTransition(current, status).applies).toBe(false);
      expect(decideTransition(status, 'read').applies).toBe(false);
    },
  );
});

describe('decideOutboxMove', () => {
  // Written out: the only backward moves there are, and the only way out of a failure.
  const EXPECTED: Record<string, string[]> = {
    claim: ['pending', 'dispatching'],
    'retry-later': ['dispatching'],
    'admin-retry': ['failed'],
  };
  const MOVE_PAIRS = OUTBOUND_STATUSES.flatMap((current) =>
    OUTBOX_MOVES.map((move) => [current, move] as const),
  );

  it('should cover every (status, move) pair', () => {
    expect(MOVE_PAIRS).toHaveLength(OUTBOUND_STATUSES.length * 3);
  });

  it.each(MOVE_PAIRS)('%s → %s', (current, move) => {
    expect(decideOutboxMove(current, move)).toBe(EXPECTED[move].includes(current));
  });

  it('should send claims to dispatching and both retries back to pending', () => {
    expect(OUTBOX_MOVES.map((move) => outboxMoveTo(move))).toEqual([
      'dispatching',
      'pending',
      'pending',
    ]);
  });

  it('should never let an outbox move touch a message Twilio has', () => {
    for (const status of ['accepted', 'queued', 'sent', 'delivered', 'read', 'undelivered'])
      for (const move of OUTBOX_MOVES) expect(decideOutboxMove(status, move)).toBe(false);
  });
});

describe('stagesProvedBy', () => {
  it('should let read prove every earlier stage', () => {
    expect(stagesProvedBy('read')).toEqual(['accepted_at', 'sent_at', 'delivered_at', 'read_at']);
    expect(stagesProvedBy('delivered')).toEqual(['accepted_at', 'sent_at', 'delivered_at']);
    expect(stagesProvedBy('undelivered')).toEqual(['failed_at']);
    expect(stagesProvedBy('pending')).toEqual([]);
  });
});

describe('isFinal', () => {
  const now = Date.parse('2026-11-27T00:00:00Z');
  it.each([
    ['delivered', null, true],
    ['read', null, true],
    ['failed', null, true],
    ['undelivered', null, true],
    ['canceled', null, true],
    ['sent', new Date(now - 73 * 3600_000), true],
    ['sent', new Date(now - 71 * 3600_000), false],
    ['queued', null, false],
    ['pending', null, false],
    ['dispatching', null, false],
  ] as const)('%s (sent at %p) final=%s', (status, sentAt, final) => {
    expect(isFinal(status, sentAt, now)).toBe(final);
  });
});

describe('notFinalSql', () => {
  it('should exclude exactly the final statuses, and sent older than 72 h', () => {
    expect(notFinalSql()).toBe(
      "(status NOT IN ('delivered', 'read', 'failed', 'undelivered', 'canceled') AND NOT (status = 'sent' AND sent_at IS NOT NULL AND sent_at < now() - interval '72 hours'))",
    );
  });
});

describe('eventOrder', () => {
  it('should sort progress by rank, failures just below delivered, unknown statuses last', () => {
    const sorted = ['read', 'bogus', 'failed', 'queued', 'delivered', 'sent', 'accepted'].sort(
      (a, b) => eventOrder(a) - eventOrder(b),
    );
    expect(sorted).toEqual(['accepted', 'queued', 'sent', 'failed', 'delivered', 'read', 'bogus']);
  });
});
