import { FINAL_STATUSES } from '../../src/modules/delivery/status/status-machine';
import type { ChaosAgreementSample, ChaosFaultEvidence, ChaosVerdictInput } from './verdict';
import { CHAOS_FINAL_STATUSES, chaosVerdict, formatVerdict } from './verdict';

// Written from the rules (issue), not from the implementation: a passing run, then one change
// at a time, each rule's boundary on both sides.

const T0 = 1_800_000_000_000; // the clock start: the later of the last fault's end and last send

function sample(
  atMs: number,
  agreeNoDrop: number,
  totalNoDrop: number,
  agreeDropped: number,
  totalDropped: number,
): ChaosAgreementSample {
  return { at: T0 + atMs, agreeNoDrop, totalNoDrop, agreeDropped, totalDropped };
}

const PROVEN_FAULTS: ChaosFaultEvidence = {
  workerPidChanges: 3,
  redisDbsizeAfterRestart: 0,
  postgresStartMoved: true,
  simDropped: 5,
  simDuplicated: 4,
  apiRestarted: true,
};

/** m1, m2 without a dropped callback, m3, m4 with one; everything right and in time. */
function passing(overrides: Partial<ChaosVerdictInput> = {}): ChaosVerdictInput {
  return {
    accepted: [
      { id: 'm1', dropped: false },
      { id: 'm2', dropped: false },
      { id: 'm3', dropped: true },
      { id: 'm4', dropped: true },
    ],
    finalDb: { m1: 'delivered', m2: 'read', m3: 'failed', m4: 'delivered' },
    truth: { m1: 'delivered', m2: 'read', m3: 'failed', m4: 'delivered' },
    createsPerId: { m1: 1, m2: 1, m3: 1, m4: 1 },
    agreement: [sample(10_000, 2, 2, 1, 2), sample(150_000, 2, 2, 2, 2)],
    lastFaultEndedAt: T0,
    lastCreateAt: T0 - 5_000,
    reconcileFirstLookSeconds: 120,
    callbacks: { dropped: 5, duplicated: 4, applied: 20 },
    events: { expected: 12, delivered: 12, outOfOrderMessages: [] },
    http5xx: { '503': 120, '500': 0 },
    faults: { ...PROVEN_FAULTS },
    ...overrides,
  };
}

/** n accepted messages, none dropped, all delivered and agreeing within 1 s. */
function many(n: number, overrides: Partial<ChaosVerdictInput> = {}): ChaosVerdictInput {
  const ids = Array.from({ length: n }, (_, i) => `id${String(i).padStart(3, '0')}`);
  const all = (value: string) => Object.fromEntries(ids.map((id) => [id, value]));
  return passing({
    accepted: ids.map((id) => ({ id, dropped: false })),
    finalDb: all('delivered'),
    truth: all('delivered'),
    createsPerId: Object.fromEntries(ids.map((id) => [id, 1])),
    agreement: [sample(1_000, n, n, 0, 0)],
    ...overrides,
  });
}

describe('chaosVerdict', () => {
  it('passes a run where every rule holds, and reports its figures', () => {
    const verdict = chaosVerdict(passing());
    expect(verdict).toEqual({
      pass: true,
      failures: [],
      accepted: 4,
      lost: 0,
      lostIds: [],
      doubled: 0,
      doubledIds: [],
      agreementPercent: 100,
      secondsToAgreeNoDrop: 10,
      secondsToAgreeDropped: 150,
      boundNoDropSeconds: 60,
      boundDroppedSeconds: 180,
      callbacks: { dropped: 5, duplicated: 4, applied: 20 },
      events: { expected: 12, delivered: 12, outOfOrderMessages: [] },
      http5xx: { '503': 120, '500': 0 },
      faults: PROVEN_FAULTS,
    });
  });

  it('fails a run that accepted no message', () => {
    const verdict = chaosVerdict(
      passing({ accepted: [], finalDb: {}, truth: {}, createsPerId: {}, agreement: [] }),
    );
    expect(verdict.pass).toBe(false);
    expect(verdict.accepted).toBe(0);
    expect(verdict.failures).toHaveLength(1);
    expect(verdict.failures[0]).toMatch(/no message was accepted/i);
  });

  it('counts an id answered 202 twice (idempotent retry) once', () => {
    const base = passing();
    const verdict = chaosVerdict({
      ...base,
      accepted: [...base.accepted, { id: 'm1', dropped: false }],
    });
    expect(verdict.accepted).toBe(4);
    expect(verdict.pass).toBe(true);
  });

  describe('lost: not final in the DB, or not the simulator’s status', () => {
    it('uses the same final statuses as the service', () => {
      expect([...CHAOS_FINAL_STATUSES].sort()).toEqual([...FINAL_STATUSES].sort());
    });

    it.each(['delivered', 'read', 'failed', 'undelivered', 'canceled'])(
      'a final status %s equal to the truth is not lost',
      (status) => {
        const verdict = chaosVerdict(
          passing({
            finalDb: { ...passing().finalDb, m1: status },
            truth: { ...passing().truth, m1: status },
          }),
        );
        expect(verdict.lost).toBe(0);
        expect(verdict.pass).toBe(true);
      },
    );

    it.each<[string, string | undefined, string | undefined]>([
      ['not final (queued), even if equal to the truth', 'queued', 'queued'],
      ['not final (accepted)', 'accepted', 'accepted'],
      ['not final (sending)', 'sending', 'sending'],
      ['not final (sent), even if equal to the truth', 'sent', 'sent'],
      ['not final (sent) while the truth is delivered', 'sent', 'delivered'],
      ['final but different (delivered vs read)', 'delivered', 'read'],
      ['final but different (delivered vs failed)', 'delivered', 'failed'],
      ['final but the simulator never created it', 'delivered', undefined],
      ['no row in the DB', undefined, 'delivered'],
      ['neither a row nor a truth', undefined, undefined],
    ])('%s is lost', (_label, db, truth) => {
      const finalDb: Record<string, string> = { ...passing().finalDb };
      const truths: Record<string, string> = { ...passing().truth };
      delete finalDb.m2;
      delete truths.m2;
      if (db !== undefined) finalDb.m2 = db;
      if (truth !== undefined) truths.m2 = truth;
      const verdict = chaosVerdict(passing({ finalDb, truth: truths }));
      expect(verdict.pass).toBe(false);
      expect(verdict.lost).toBe(1);
      expect(verdict.lostIds).toEqual(['m2']);
      expect(verdict.failures).toHaveLength(1);
      expect(verdict.failures[0]).toContain('m2');
    });

    it('judges only accepted ids (extra DB rows or truths do not count)', () => {
      const verdict = chaosVerdict(
        passing({
          finalDb: { ...passing().finalDb, other: 'queued' },
          truth: { ...passing().truth, other: 'sent', more: 'delivered' },
        }),
      );
      expect(verdict.lost).toBe(0);
      expect(verdict.pass).toBe(true);
    });

    it('an id named like an Object property is still judged by the data', () => {
      const verdict = chaosVerdict(
        passing({ accepted: [...passing().accepted, { id: 'constructor', dropped: false }] }),
      );
      expect(verdict.lostIds).toEqual(['constructor']);
    });

    it('counts every lost id, lists the first 20 in accepted order', () => {
      const verdict = chaosVerdict(many(25, { finalDb: {} }));
      expect(verdict.lost).toBe(25);
      expect(verdict.lostIds).toHaveLength(20);
      expect(verdict.lostIds[0]).toBe('id000');
      expect(verdict.lostIds[19]).toBe('id019');
      expect(verdict.pass).toBe(false);
    });
  });

  describe('doubled: created more than once at the simulator', () => {
    it.each<[number, boolean]>([
      [1, true],
      [2, false],
      [3, false],
    ])('creates %i → pass %s', (creates, pass) => {
      const verdict = chaosVerdict(
        passing({ createsPerId: { ...passing().createsPerId, m3: creates } }),
      );
      expect(verdict.pass).toBe(pass);
      expect(verdict.doubled).toBe(pass ? 0 : 1);
      expect(verdict.doubledIds).toEqual(pass ? [] : ['m3']);
      expect(verdict.failures).toHaveLength(pass ? 0 : 1);
    });

    it('counts every doubled id, lists the first 20', () => {
      const ids = Array.from({ length: 22 }, (_, i) => `id${String(i).padStart(3, '0')}`);
      const verdict = chaosVerdict(
        many(22, { createsPerId: Object.fromEntries(ids.map((id) => [id, 2])) }),
      );
      expect(verdict.doubled).toBe(22);
      expect(verdict.doubledIds).toEqual(ids.slice(0, 20));
      expect(verdict.pass).toBe(false);
    });
  });

  describe('agreementPercent', () => {
    it.each<[number, number, number]>([
      [4, 4, 100],
      [4, 2, 50],
      [4, 0, 0],
      [3, 1, 33.33],
      [8, 1, 12.5],
    ])('%i accepted, %i agreeing → %d %%', (n, agreeing, percent) => {
      const ids = Array.from({ length: n }, (_, i) => `id${String(i).padStart(3, '0')}`);
      const finalDb = Object.fromEntries(
        ids.map((id, i) => [id, i < agreeing ? 'delivered' : 'failed']),
      );
      expect(chaosVerdict(many(n, { finalDb })).agreementPercent).toBe(percent);
    });

    it('is below 100 when a single message of many disagrees (99.995 is not shown as 100)', () => {
      const ids = Array.from({ length: 20_000 }, (_, i) => `x${i}`);
      const all = Object.fromEntries(ids.map((id) => [id, 'delivered']));
      const verdict = chaosVerdict(
        many(0, {
          accepted: ids.map((id) => ({ id, dropped: false })),
          finalDb: { ...all, x0: 'failed' },
          truth: all,
          createsPerId: {},
          agreement: [sample(1_000, 20_000, 20_000, 0, 0)],
        }),
      );
      expect(verdict.agreementPercent).toBeLessThan(100);
    });

    it('counts a lost-but-agreeing (not final, equal) message as agreeing', () => {
      const verdict = chaosVerdict(
        passing({
          finalDb: { ...passing().finalDb, m1: 'sent' },
          truth: { ...passing().truth, m1: 'sent' },
        }),
      );
      expect(verdict.agreementPercent).toBe(100);
      expect(verdict.lost).toBe(1);
    });
  });

  describe('secondsToAgreeNoDrop (bound 60 s from the later of last fault end and last send)', () => {
    it.each<[string, number, boolean]>([
      ['at the clock start', 0, true],
      ['exactly 60 s', 60_000, true],
      ['60.001 s', 60_001, false],
      ['120 s', 120_000, false],
    ])('%s', (_label, atMs, pass) => {
      const verdict = chaosVerdict(passing({ agreement: [sample(atMs, 2, 2, 2, 2)] }));
      expect(verdict.secondsToAgreeNoDrop).toBe(atMs / 1000);
      expect(verdict.pass).toBe(pass);
      expect(verdict.failures).toHaveLength(pass ? 0 : 1);
      if (!pass) expect(verdict.failures[0]).toMatch(/no dropped callback/);
    });

    it.each<[string, number, number]>([
      ['the last fault ended after the last send', T0, T0 - 30_000],
      ['the last send came after the last fault', T0 - 30_000, T0],
    ])('counts from the later of the two: %s', (_label, lastFaultEndedAt, lastCreateAt) => {
      const verdict = chaosVerdict(
        passing({ lastFaultEndedAt, lastCreateAt, agreement: [sample(45_000, 2, 2, 2, 2)] }),
      );
      expect(verdict.secondsToAgreeNoDrop).toBe(45);
      expect(verdict.pass).toBe(true);
    });

    it('takes the first sample in time at which all agree, whatever the order given', () => {
      const agreement = [
        sample(70_000, 2, 2, 2, 2),
        sample(20_000, 2, 2, 2, 2),
        sample(5_000, 1, 2, 2, 2),
      ];
      const copy = structuredClone(agreement);
      const verdict = chaosVerdict(passing({ agreement }));
      expect(verdict.secondsToAgreeNoDrop).toBe(20);
      expect(agreement).toEqual(copy); // the input is not touched
    });

    it('is null and fails when never all agree', () => {
      const verdict = chaosVerdict(
        passing({ agreement: [sample(10_000, 1, 2, 2, 2), sample(50_000, 1, 2, 2, 2)] }),
      );
      expect(verdict.secondsToAgreeNoDrop).toBeNull();
      expect(verdict.pass).toBe(false);
      expect(verdict.failures).toHaveLength(1);
      expect(verdict.failures[0]).toMatch(/never/);
    });

    it('is null and fails with no samples at all', () => {
      const verdict = chaosVerdict(passing({ agreement: [] }));
      expect(verdict.secondsToAgreeNoDrop).toBeNull();
      expect(verdict.secondsToAgreeDropped).toBeNull();
      expect(verdict.pass).toBe(false);
    });

    it('a sample with totalNoDrop 0 is not agreement when there are such messages', () => {
      const verdict = chaosVerdict(
        passing({ agreement: [sample(5_000, 0, 0, 2, 2), sample(61_000, 2, 2, 2, 2)] }),
      );
      expect(verdict.secondsToAgreeNoDrop).toBe(61);
      expect(verdict.pass).toBe(false);
    });

    it('a sample before the clock start does not count', () => {
      const verdict = chaosVerdict(
        passing({ agreement: [sample(-10_000, 2, 2, 2, 2), sample(30_000, 2, 2, 2, 2)] }),
      );
      expect(verdict.secondsToAgreeNoDrop).toBe(30);
    });

    it('is vacuously 0 s when every message had a dropped callback', () => {
      const verdict = chaosVerdict(
        passing({
          accepted: passing().accepted.map(({ id }) => ({ id, dropped: true })),
          agreement: [sample(100_000, 0, 0, 4, 4)],
        }),
      );
      expect(verdict.secondsToAgreeNoDrop).toBe(0);
      expect(verdict.secondsToAgreeDropped).toBe(100);
      expect(verdict.pass).toBe(true);
    });
  });

  describe('secondsToAgreeDropped (bound reconcileFirstLookSeconds + 60 s)', () => {
    it.each<[string, number | undefined, number, number, boolean]>([
      ['default first look 120: exactly 180 s', undefined, 180, 180_000, true],
      ['default first look 120: 180.001 s', undefined, 180, 180_001, false],
      ['first look 120: exactly 180 s', 120, 180, 180_000, true],
      ['first look 120: 180.001 s', 120, 180, 180_001, false],
      ['first look 30: exactly 90 s', 30, 90, 90_000, true],
      ['first look 30: 90.001 s', 30, 90, 90_001, false],
      ['first look 300: 300 s', 300, 360, 300_000, true],
    ])('%s', (_label, firstLook, bound, atMs, pass) => {
      const input = passing({ agreement: [sample(1_000, 2, 2, 0, 2), sample(atMs, 2, 2, 2, 2)] });
      if (firstLook === undefined) delete input.reconcileFirstLookSeconds;
      else input.reconcileFirstLookSeconds = firstLook;
      const verdict = chaosVerdict(input);
      expect(verdict.boundDroppedSeconds).toBe(bound);
      expect(verdict.secondsToAgreeDropped).toBe(atMs / 1000);
      expect(verdict.pass).toBe(pass);
      expect(verdict.failures).toHaveLength(pass ? 0 : 1);
      if (!pass) expect(verdict.failures[0]).toMatch(/dropped callback/);
    });

    it('is null and fails when never all agree', () => {
      const verdict = chaosVerdict(passing({ agreement: [sample(1_000, 2, 2, 1, 2)] }));
      expect(verdict.secondsToAgreeDropped).toBeNull();
      expect(verdict.secondsToAgreeNoDrop).toBe(1);
      expect(verdict.pass).toBe(false);
      expect(verdict.failures).toHaveLength(1);
    });

    it('a sample with totalDropped 0 is not agreement when there are such messages', () => {
      const verdict = chaosVerdict(passing({ agreement: [sample(1_000, 2, 2, 0, 0)] }));
      expect(verdict.secondsToAgreeDropped).toBeNull();
      expect(verdict.pass).toBe(false);
    });

    it('is vacuously 0 s when no message had a dropped callback', () => {
      const verdict = chaosVerdict(many(3));
      expect(verdict.secondsToAgreeDropped).toBe(0);
      expect(verdict.pass).toBe(true);
    });
  });

  describe('events', () => {
    it.each<[number, number, boolean]>([
      [12, 12, true],
      [12, 11, false],
      [12, 13, false],
      [0, 0, true],
    ])('expected %i, delivered %i → pass %s', (expected, delivered, pass) => {
      const verdict = chaosVerdict(
        passing({ events: { expected, delivered, outOfOrderMessages: [] } }),
      );
      expect(verdict.pass).toBe(pass);
      expect(verdict.failures).toHaveLength(pass ? 0 : 1);
    });

    it('fails when any message’s first deliveries were out of order', () => {
      const verdict = chaosVerdict(
        passing({ events: { expected: 12, delivered: 12, outOfOrderMessages: ['m2'] } }),
      );
      expect(verdict.pass).toBe(false);
      expect(verdict.failures).toHaveLength(1);
      expect(verdict.failures[0]).toContain('m2');
      expect(verdict.events.outOfOrderMessages).toEqual(['m2']);
    });
  });

  describe('HTTP 5xx: 500 fails, 503 is reported only', () => {
    it.each<[string, Record<string, number>, boolean]>([
      ['500: 0', { '500': 0 }, true],
      ['no 500 key', {}, true],
      ['503 many', { '503': 10_000 }, true],
      ['500: 1', { '500': 1 }, false],
      ['500: 7 and 503', { '500': 7, '503': 3 }, false],
    ])('%s', (_label, http5xx, pass) => {
      const verdict = chaosVerdict(passing({ http5xx }));
      expect(verdict.pass).toBe(pass);
      expect(verdict.failures).toHaveLength(pass ? 0 : 1);
      if (!pass) expect(verdict.failures[0]).toContain('500');
      expect(verdict.http5xx).toEqual(http5xx);
    });
  });

  describe('faults must be proven', () => {
    it.each<[string, Partial<ChaosFaultEvidence>, boolean]>([
      ['worker pid changed 3 times', { workerPidChanges: 3 }, true],
      ['worker pid changed 10 times', { workerPidChanges: 10 }, true],
      ['worker pid changed 2 times', { workerPidChanges: 2 }, false],
      ['worker pid never changed', { workerPidChanges: 0 }, false],
      ['redis dbsize 0', { redisDbsizeAfterRestart: 0 }, true],
      ['redis dbsize 10', { redisDbsizeAfterRestart: 10 }, true],
      ['redis dbsize 11', { redisDbsizeAfterRestart: 11 }, false],
      ['redis dbsize never measured', { redisDbsizeAfterRestart: null }, false],
      ['postgres start did not move', { postgresStartMoved: false }, false],
      ['simulator dropped 1', { simDropped: 1 }, true],
      ['simulator dropped none', { simDropped: 0 }, false],
      ['simulator duplicated 1', { simDuplicated: 1 }, true],
      ['simulator duplicated none', { simDuplicated: 0 }, false],
      ['api did not restart', { apiRestarted: false }, false],
    ])('%s', (_label, change, pass) => {
      const verdict = chaosVerdict(passing({ faults: { ...PROVEN_FAULTS, ...change } }));
      expect(verdict.pass).toBe(pass);
      expect(verdict.failures).toHaveLength(pass ? 0 : 1);
      if (!pass) expect(verdict.failures[0]).toMatch(/^fault not seen: /);
    });

    it('lists every unproven fault, one failure each', () => {
      const verdict = chaosVerdict(
        passing({
          faults: {
            workerPidChanges: 0,
            redisDbsizeAfterRestart: null,
            postgresStartMoved: false,
            simDropped: 0,
            simDuplicated: 0,
            apiRestarted: false,
          },
        }),
      );
      expect(verdict.failures).toHaveLength(6);
      for (const failure of verdict.failures) expect(failure).toMatch(/^fault not seen: /);
    });
  });

  it('gathers every broken rule, one sentence each', () => {
    const verdict = chaosVerdict(
      passing({
        finalDb: { ...passing().finalDb, m1: 'sent' },
        createsPerId: { ...passing().createsPerId, m2: 2 },
        agreement: [],
        events: { expected: 12, delivered: 10, outOfOrderMessages: ['m4'] },
        http5xx: { '500': 2 },
        faults: { ...PROVEN_FAULTS, apiRestarted: false },
      }),
    );
    expect(verdict.pass).toBe(false);
    // lost, doubled, no-drop never, dropped never, events incomplete, out of order, 500, fault
    expect(verdict.failures).toHaveLength(8);
    for (const failure of verdict.failures) expect(failure).not.toContain('\n');
  });
});

describe('formatVerdict', () => {
  it('summarises a passing run and ends with VERDICT: PASS', () => {
    const text = formatVerdict(chaosVerdict(passing()));
    const lines = text.split('\n');
    expect(lines[lines.length - 1]).toBe('VERDICT: PASS');
    expect(text).toMatch(/accepted\s+4/);
    expect(text).toMatch(/lost\s+0/);
    expect(text).toMatch(/doubled\s+0/);
    expect(text).toContain('100.00 %');
    expect(text).toContain('10.000 s (bound 60 s)');
    expect(text).toContain('150.000 s (bound 180 s)');
    expect(text).toContain('503: 120');
  });

  it('ends a failing run with VERDICT: FAIL and every failure', () => {
    const verdict = chaosVerdict(
      passing({
        agreement: [sample(1_000, 1, 2, 1, 2)],
        http5xx: { '500': 3 },
        faults: { ...PROVEN_FAULTS, simDropped: 0 },
      }),
    );
    const text = formatVerdict(verdict);
    const lines = text.split('\n');
    const at = lines.indexOf('VERDICT: FAIL');
    expect(at).toBeGreaterThan(0);
    expect(lines.slice(at + 1)).toEqual(verdict.failures.map((failure) => `  - ${failure}`));
    expect(text).toContain('never (bound 60 s)');
    expect(verdict.failures).toHaveLength(4);
  });

  it('names lost and doubled ids', () => {
    const text = formatVerdict(
      chaosVerdict(
        passing({
          finalDb: { ...passing().finalDb, m3: 'sent' },
          createsPerId: { ...passing().createsPerId, m4: 2 },
        }),
      ),
    );
    expect(text).toMatch(/lost\s+1: m3/);
    expect(text).toMatch(/doubled\s+1: m4/);
  });
});
