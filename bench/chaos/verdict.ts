// The verdict of `npm run chaos`: a pure function from what the run observed to pass or fail.
//
// A chaos run sends messages while it kills workers, restarts Redis (emptied), moves
// PostgreSQL's start, restarts the API and lets the Twilio simulator drop and duplicate status
// callbacks. A PASS proves, for that run:
//   - no data lost or corrupted: every message the API answered 202 to ends in a final status in
//     the database, and it is exactly the simulator's (Twilio's) final status for it;
//   - nothing sent twice: the simulator created each message at most once;
//   - every status true within bounds: from the later of the last fault's end and the last send,
//     messages none of whose callbacks were dropped all agree with the simulator within 60 s,
//     and those with a dropped callback within the reconciler's first look + 60 s;
//   - events complete and in order: every expected event delivered, each message's first
//     deliveries in `sequence` order;
//   - no 500s (503s while a dependency is down are expected: reported, never a failure);
//   - each fault really happened (a run whose faults did not bite proves nothing): worker pids
//     changed, Redis came back near empty, PostgreSQL's start time moved, the simulator dropped
//     and duplicated callbacks, the API restarted.
// Plain data in, plain data out (epoch ms, no Dates, no I/O), so the rules are unit-tested.

/** Statuses after which nothing is expected (the service's FINAL_STATUSES; a spec checks they match). */
export const CHAOS_FINAL_STATUSES: readonly string[] = [
  'delivered',
  'read',
  'failed',
  'undelivered',
  'canceled',
];
/** Messages with no dropped callback must all agree with the simulator within this. */
export const BOUND_NO_DROP_SECONDS = 60;
/** Slack after the reconciler's first look for messages with a dropped callback. */
export const DROPPED_SLACK_SECONDS = 60;
/** RECONCILE_AFTER's default, used when the input does not say. */
export const DEFAULT_RECONCILE_FIRST_LOOK_SECONDS = 120;
/** Worker restarts the run must prove. */
export const MIN_WORKER_PID_CHANGES = 3;
/** Redis DBSIZE right after its restart at most this counts as "near 0" (emptied). */
export const MAX_REDIS_DBSIZE_AFTER_RESTART = 10;
/** lostIds and doubledIds hold at most this many ids. */
export const ID_LIST_LIMIT = 20;
/** Ids quoted in a failure sentence. */
const IDS_IN_SENTENCE = 5;

/** A message the API answered 202 to. */
export interface ChaosAcceptedMessage {
  id: string;
  /** Whether the simulator purposely dropped any of its status callbacks. */
  dropped: boolean;
}

/** One look, after the faults, at how many messages the database has right. */
export interface ChaosAgreementSample {
  /** Epoch ms. */
  at: number;
  /** Messages with no dropped callback whose DB status equals the simulator's final status. */
  agreeNoDrop: number;
  totalNoDrop: number;
  /** The same for messages with at least one dropped callback. */
  agreeDropped: number;
  totalDropped: number;
}

export interface ChaosCallbackCounts {
  dropped: number;
  duplicated: number;
  applied: number;
}

export interface ChaosEventCounts {
  expected: number;
  delivered: number;
  /** Message ids whose first deliveries did not arrive in `sequence` order. */
  outOfOrderMessages: string[];
}

/** The faults, as observed (not as requested). */
export interface ChaosFaultEvidence {
  workerPidChanges: number;
  /** Redis DBSIZE right after its restart; null if never measured. */
  redisDbsizeAfterRestart: number | null;
  postgresStartMoved: boolean;
  simDropped: number;
  simDuplicated: number;
  apiRestarted: boolean;
}

export interface ChaosVerdictInput {
  accepted: ChaosAcceptedMessage[];
  /** id → status in the service's database at the end (absent: no row). */
  finalDb: Record<string, string>;
  /** id → the simulator's final status (absent: the simulator never created it). */
  truth: Record<string, string>;
  /** id → how many messages the simulator created for it. */
  createsPerId: Record<string, number>;
  agreement: ChaosAgreementSample[];
  /** Epoch ms. */
  lastFaultEndedAt: number;
  /** Epoch ms. */
  lastCreateAt: number;
  /** RECONCILE_AFTER in seconds; DEFAULT_RECONCILE_FIRST_LOOK_SECONDS (120) when absent. */
  reconcileFirstLookSeconds?: number;
  callbacks: ChaosCallbackCounts;
  events: ChaosEventCounts;
  /** HTTP status code → count, e.g. { '503': 120, '500': 0 }. */
  http5xx: Record<string, number>;
  faults: ChaosFaultEvidence;
}

export interface ChaosVerdict {
  pass: boolean;
  /** One sentence per broken rule; empty when pass. */
  failures: string[];
  /** Distinct ids answered 202. */
  accepted: number;
  lost: number;
  /** The first ID_LIST_LIMIT lost ids, in accepted order. */
  lostIds: string[];
  doubled: number;
  /** The first ID_LIST_LIMIT ids created more than once. */
  doubledIds: string[];
  /** Share of accepted ids whose DB status equals the truth, rounded down to 2 decimals. */
  agreementPercent: number;
  /** Seconds from the clock start to full agreement; null if never reached. */
  secondsToAgreeNoDrop: number | null;
  secondsToAgreeDropped: number | null;
  boundNoDropSeconds: number;
  boundDroppedSeconds: number;
  callbacks: ChaosCallbackCounts;
  events: ChaosEventCounts;
  http5xx: Record<string, number>;
  faults: ChaosFaultEvidence;
}

function own(record: Record<string, string>, id: string): string | undefined {
  return Object.prototype.hasOwnProperty.call(record, id) ? record[id] : undefined;
}

function idList(ids: string[], limit: number): string {
  const shown = ids.slice(0, limit).join(', ');
  return ids.length > limit ? `${shown}, …` : shown;
}

/**
 * The failure of one group of messages (`which`: "with no dropped callback"…) that took longer
 * than `boundSeconds` to all agree, or never did; null when it agreed in time. Compared in ms so
 * that 60 s is exactly 60 000 ms (no float rounding at the boundary).
 */
function lateToAgree(which: string, ms: number | null, boundSeconds: number): string | null {
  if (ms === null) {
    return `Messages ${which} never all agreed with the simulator after the last fault and send.`;
  }
  if (ms > boundSeconds * 1000) {
    return `Messages ${which} took ${ms / 1000} s to all agree with the simulator (bound ${boundSeconds} s).`;
  }
  return null;
}

/**
 * Milliseconds from `start` to the first sample (at or after `start`) at which all of a group
 * agree; 0 when the group is empty; null when never reached.
 */
function msToAgree(
  samples: readonly ChaosAgreementSample[],
  start: number,
  groupSize: number,
  agree: (sample: ChaosAgreementSample) => number,
  total: (sample: ChaosAgreementSample) => number,
): number | null {
  if (groupSize === 0) return 0;
  const hit = samples.find(
    (sample) => sample.at >= start && total(sample) > 0 && agree(sample) === total(sample),
  );
  return hit === undefined ? null : hit.at - start;
}

function faultFailures(faults: ChaosFaultEvidence): string[] {
  const failures: string[] = [];
  if (!(faults.workerPidChanges >= MIN_WORKER_PID_CHANGES)) {
    failures.push(
      `fault not seen: worker restarts (worker pid changed ${faults.workerPidChanges} times, at least ${MIN_WORKER_PID_CHANGES} needed).`,
    );
  }
  if (faults.redisDbsizeAfterRestart === null) {
    failures.push('fault not seen: Redis restart (DBSIZE after the restart was never measured).');
  } else if (!(faults.redisDbsizeAfterRestart <= MAX_REDIS_DBSIZE_AFTER_RESTART)) {
    failures.push(
      `fault not seen: Redis emptied (DBSIZE after the restart was ${faults.redisDbsizeAfterRestart}, at most ${MAX_REDIS_DBSIZE_AFTER_RESTART} expected).`,
    );
  }
  if (!faults.postgresStartMoved) {
    failures.push('fault not seen: PostgreSQL restart (its start time did not move).');
  }
  if (!(faults.simDropped > 0)) {
    failures.push('fault not seen: dropped callbacks (the simulator dropped none).');
  }
  if (!(faults.simDuplicated > 0)) {
    failures.push('fault not seen: duplicated callbacks (the simulator duplicated none).');
  }
  if (!faults.apiRestarted) {
    failures.push('fault not seen: API restart (the API did not restart).');
  }
  return failures;
}

/** Pass or fail, with the figures, from what a chaos run observed. Pure: no I/O, no clock. */
export function chaosVerdict(input: ChaosVerdictInput): ChaosVerdict {
  const failures: string[] = [];

  // The same id answered 202 twice (an idempotent retry) is one message; dropped if any says so.
  const droppedById = new Map<string, boolean>();
  for (const message of input.accepted) {
    droppedById.set(message.id, (droppedById.get(message.id) ?? false) || message.dropped);
  }
  const ids = [...droppedById.keys()];
  if (ids.length === 0) {
    failures.push('No message was accepted (202), so the run proves nothing.');
  }

  let agreeing = 0;
  const lostIds: string[] = [];
  const lostDetails: string[] = [];
  for (const id of ids) {
    const db = own(input.finalDb, id);
    const truth = own(input.truth, id);
    if (db !== undefined && truth !== undefined && db === truth) agreeing += 1;
    const final = db !== undefined && CHAOS_FINAL_STATUSES.includes(db);
    if (!final || truth === undefined || db !== truth) {
      lostIds.push(id);
      lostDetails.push(`${id} (db ${db ?? 'no row'}, simulator ${truth ?? 'never created'})`);
    }
  }
  if (lostIds.length > 0) {
    failures.push(
      `${lostIds.length} of ${ids.length} accepted messages are lost or wrong (DB status not final or not the simulator's): ${idList(lostDetails, IDS_IN_SENTENCE)}.`,
    );
  }

  const doubledIds = Object.keys(input.createsPerId).filter((id) => input.createsPerId[id] > 1);
  if (doubledIds.length > 0) {
    const details = doubledIds.map((id) => `${id} (${input.createsPerId[id]} times)`);
    failures.push(
      `${doubledIds.length} messages were created more than once at the simulator: ${idList(details, IDS_IN_SENTENCE)}.`,
    );
  }

  // Exact: agreeing * 10000 is an integer, so all-agree is exactly 100 and anything less is below.
  const agreementPercent =
    ids.length === 0 ? 100 : Math.floor((agreeing * 10_000) / ids.length) / 100;

  const start = Math.max(input.lastFaultEndedAt, input.lastCreateAt);
  const samples = [...input.agreement].sort((a, b) => a.at - b.at);
  const droppedCount = ids.filter((id) => droppedById.get(id) === true).length;
  const noDropMs = msToAgree(
    samples,
    start,
    ids.length - droppedCount,
    (s) => s.agreeNoDrop,
    (s) => s.totalNoDrop,
  );
  const droppedMs = msToAgree(
    samples,
    start,
    droppedCount,
    (s) => s.agreeDropped,
    (s) => s.totalDropped,
  );
  const boundNoDropSeconds = BOUND_NO_DROP_SECONDS;
  const boundDroppedSeconds =
    (input.reconcileFirstLookSeconds ?? DEFAULT_RECONCILE_FIRST_LOOK_SECONDS) +
    DROPPED_SLACK_SECONDS;
  const secondsToAgreeNoDrop = noDropMs === null ? null : noDropMs / 1000;
  const secondsToAgreeDropped = droppedMs === null ? null : droppedMs / 1000;

  const noDropLate = lateToAgree('with no dropped callback', noDropMs, boundNoDropSeconds);
  if (noDropLate) failures.push(noDropLate);
  const droppedLate = lateToAgree('with a dropped callback', droppedMs, boundDroppedSeconds);
  if (droppedLate) failures.push(droppedLate);

  if (input.events.delivered !== input.events.expected) {
    failures.push(
      `Events incomplete: ${input.events.delivered} delivered, ${input.events.expected} expected.`,
    );
  }
  if (input.events.outOfOrderMessages.length > 0) {
    failures.push(
      `Events out of order for ${input.events.outOfOrderMessages.length} messages: ${idList(input.events.outOfOrderMessages, IDS_IN_SENTENCE)}.`,
    );
  }

  const http500 = input.http5xx['500'] ?? 0;
  if (http500 !== 0) {
    failures.push(`The API answered 500 ${http500} times (0 allowed).`);
  }

  failures.push(...faultFailures(input.faults));

  return {
    pass: failures.length === 0,
    failures,
    accepted: ids.length,
    lost: lostIds.length,
    lostIds: lostIds.slice(0, ID_LIST_LIMIT),
    doubled: doubledIds.length,
    doubledIds: doubledIds.slice(0, ID_LIST_LIMIT),
    agreementPercent,
    secondsToAgreeNoDrop,
    secondsToAgreeDropped,
    boundNoDropSeconds,
    boundDroppedSeconds,
    callbacks: { ...input.callbacks },
    events: { ...input.events, outOfOrderMessages: [...input.events.outOfOrderMessages] },
    http5xx: { ...input.http5xx },
    faults: { ...input.faults },
  };
}

function seconds(value: number | null, bound: number): string {
  return value === null ? `never (bound ${bound} s)` : `${value.toFixed(3)} s (bound ${bound} s)`;
}

function yesNo(value: boolean): string {
  return value ? 'yes' : 'no';
}

/** A compact multi-line summary for the terminal and for notes, ending with the verdict. */
export function formatVerdict(verdict: ChaosVerdict): string {
  const codes = Object.keys(verdict.http5xx).sort();
  const rows: [string, string][] = [
    ['accepted', `${verdict.accepted}`],
    [
      'lost',
      verdict.lost === 0 ? '0' : `${verdict.lost}: ${idList(verdict.lostIds, ID_LIST_LIMIT)}`,
    ],
    [
      'doubled',
      verdict.doubled === 0
        ? '0'
        : `${verdict.doubled}: ${idList(verdict.doubledIds, ID_LIST_LIMIT)}`,
    ],
    ['agreement', `${verdict.agreementPercent.toFixed(2)} %`],
    ['agree, no drop', seconds(verdict.secondsToAgreeNoDrop, verdict.boundNoDropSeconds)],
    ['agree, dropped', seconds(verdict.secondsToAgreeDropped, verdict.boundDroppedSeconds)],
    [
      'callbacks',
      `applied ${verdict.callbacks.applied}, dropped ${verdict.callbacks.dropped}, duplicated ${verdict.callbacks.duplicated}`,
    ],
    [
      'events',
      `delivered ${verdict.events.delivered} of ${verdict.events.expected}, out of order ${verdict.events.outOfOrderMessages.length}`,
    ],
    [
      'http 5xx',
      codes.length === 0
        ? 'none'
        : codes.map((code) => `${code}: ${verdict.http5xx[code]}`).join(', '),
    ],
    ['worker pid changes', `${verdict.faults.workerPidChanges}`],
    [
      'redis dbsize',
      verdict.faults.redisDbsizeAfterRestart === null
        ? 'not measured'
        : `${verdict.faults.redisDbsizeAfterRestart} after restart`,
    ],
    ['postgres restarted', yesNo(verdict.faults.postgresStartMoved)],
    [
      'sim faults',
      `dropped ${verdict.faults.simDropped}, duplicated ${verdict.faults.simDuplicated}`,
    ],
    ['api restarted', yesNo(verdict.faults.apiRestarted)],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  const lines = [
    'Chaos run',
    ...rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`),
  ];
  lines.push(`VERDICT: ${verdict.pass ? 'PASS' : 'FAIL'}`);
  for (const failure of verdict.failures) lines.push(`  - ${failure}`);
  return lines.join('\n');
}
