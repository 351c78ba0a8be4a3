import { randomBytes, randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';

export interface SimMessage {
  sid: string;
  /** Our message id, read from the StatusCallback URL's `mid` query parameter. */
  mid: string | null;
  accountSid: string;
  to: string;
  from: string;
  body: string | null;
  mediaUrls: string[];
  contentSid: string | null;
  contentVariables: string | null;
  messagingServiceSid: string | null;
  statusCallback: string | null;
  status: string;
  errorCode: number | null;
  errorMessage: string | null;
  createdAt: Date;
  sentAt: Date | null;
  updatedAt: Date;
  /** Status callbacks its life did not send, on purpose (dropRate). */
  droppedCallbacks: number;
}

/**
 * A string of its own: V8 keeps a substring as a slice of its parent (a form value slices the
 * whole request body, a mid the whole callback URL), so what is kept for long is copied first,
 * or each kept message would hold its whole request.
 */
function own<T extends string | null>(value: T): T {
  return (value === null ? null : Buffer.from(value, 'utf8').toString('utf8')) as T;
}

export function newSid(prefix: string): string {
  return `${prefix}${randomBytes(16).toString('hex')}`;
}

export function newIdempotencyToken(): string {
  return randomUUID();
}

/**
 * The create calls that named one of our message ids (`mid`, from the StatusCallback URL).
 * `count`: every authenticated create call, whatever the answer (a 400, a 429, a 500 too): the
 * evidence for "attempted once". `accepted`: the messages created for it: the evidence for
 * "never sent twice". A "created, then answered 500" call is one call that was accepted.
 */
export interface CreateCount {
  mid: string;
  /** The `To` of the first call that gave one. */
  to: string | null;
  count: number;
  accepted: number;
}

/** What became of the status callbacks (GET /__sim/stats); reset with the store. */
export interface CallbackStats {
  /** Callbacks the plans said to send: each copy of a duplicate counts. */
  planned: number;
  /** Not sent on purpose (dropRate), and extra copies sent on purpose (duplicateRate). */
  dropped: number;
  duplicated: number;
  /** Posted (each copy once, whatever its retries). */
  sent: number;
  /** Answered 2xx (or 3xx), after the URL's own retries. */
  answered: number;
  /** Not answered 2xx after the URL's own retries, by the last attempt's reason. */
  failed: { ct: number; rt: number; '4xx': number; '5xx': number };
  /** HTTP attempts, retries included. */
  attempts: number;
}

export function emptyCallbackStats(): CallbackStats {
  return {
    planned: 0,
    dropped: 0,
    duplicated: 0,
    sent: 0,
    answered: 0,
    failed: { ct: 0, rt: 0, '4xx': 0, '5xx': 0 },
    attempts: 0,
  };
}

/**
 * What the truth keeps of a message retired from the REST resource (SimStore.retire): enough to
 * say what became of it, not its content.
 */
export interface RetiredMessage {
  sid: string;
  mid: string | null;
  to: string;
  from: string;
  status: string;
  errorCode: number | null;
  createdAt: Date;
  droppedCallbacks: number;
}

/** A retired message packed in one flat string (one allocation, no slices of its request). */
type PackedTruth = [
  retiredMs: number,
  createdMs: number,
  sid: string,
  mid: string | null,
  status: string,
  errorCode: number | null,
  droppedCallbacks: number,
  to: string,
  from: string,
];

function pack(message: SimMessage, retiredMs: number): string {
  const fields: PackedTruth = [
    retiredMs,
    message.createdAt.getTime(),
    message.sid,
    message.mid,
    message.status,
    message.errorCode,
    message.droppedCallbacks,
    message.to,
    message.from,
  ];
  return JSON.stringify(fields);
}

function unpack(packed: string): RetiredMessage {
  const [, createdMs, sid, mid, status, errorCode, droppedCallbacks, to, from] = JSON.parse(
    packed,
  ) as PackedTruth;
  return {
    sid,
    mid,
    to,
    from,
    status,
    errorCode,
    createdAt: new Date(createdMs),
    droppedCallbacks,
  };
}

/** The retirement time at the head of a packed record, without parsing the rest. */
function packedRetiredMs(packed: string): number {
  return Number(packed.slice(1, packed.indexOf(',')));
}

/** A mid's create calls, and how many of its messages are still in the REST resource. */
interface CreateEntry extends CreateCount {
  /**
   * When it was last used (ms): a create call, a message created or retired. The map is kept in
   * this order (an entry used moves to its end), so `forget` walks from the oldest.
   */
  lastAt: number;
  /** Its messages the store still holds: in the REST resource, or retired and not forgotten. */
  kept: number;
}

/**
 * Everything the simulator has accepted, newest last, and the create calls per mid. Messages
 * done long ago are retired (`retire`): they leave the REST resource and only their truth stays,
 * packed in one string. Later still, the truth itself goes (`forget`), with its mid's create
 * calls, so a run at a steady rate levels off at rate × those ages × a few hundred bytes.
 */
export class SimStore {
  private readonly messages = new Map<string, SimMessage>();
  /** Sids in creation order, from `retiredUpTo` on not yet looked at by retire(). */
  private order: string[] = [];
  private retiredUpTo = 0;
  /** Walked past while still changing: looked at again by each retire(). */
  private lingering: string[] = [];
  /** Packed truth of retired messages in retirement order; from `forgottenUpTo` on kept. */
  private retired: string[] = [];
  private forgottenUpTo = 0;
  private readonly creates = new Map<string, CreateEntry>();
  private readonly running = new Set<Promise<void>>();
  private controller = SimStore.newController();

  // Every running message life waits on this signal: thousands of listeners are expected.
  private static newController(): AbortController {
    const controller = new AbortController();
    setMaxListeners(0, controller.signal);
    return controller;
  }
  createCalls = 0;
  callbacks = emptyCallbackStats();

  /** Aborted by the next reset: every running message life stops. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  track(task: Promise<void>): void {
    this.running.add(task);
    void task.finally(() => this.running.delete(task));
  }

  /** A create call that reached the Messages resource, counted before anything can refuse it. */
  recordCreateCall(mid: string | null, to: string | null, now = Date.now()): void {
    if (mid === null) return;
    const entry = this.touch(mid, now);
    entry.count += 1;
    entry.to ??= own(to);
  }

  /** A message created: `accepted` for its mid (its create call was recorded first). */
  add(message: SimMessage): void {
    this.messages.set(message.sid, message);
    this.order.push(message.sid);
    if (message.mid === null) return;
    const entry = this.touch(message.mid, message.createdAt.getTime());
    entry.accepted += 1;
    entry.kept += 1;
    entry.to ??= own(message.to);
  }

  /** The mid's entry (made if new), marked used at `now` and moved to the map's end. */
  private touch(mid: string, now: number): CreateEntry {
    let entry = this.creates.get(mid);
    if (entry) this.creates.delete(mid);
    else entry = { mid: own(mid), to: null, count: 0, accepted: 0, lastAt: now, kept: 0 };
    entry.lastAt = Math.max(entry.lastAt, now);
    this.creates.set(entry.mid, entry);
    return entry;
  }

  get(sid: string): SimMessage | undefined {
    return this.messages.get(sid);
  }

  /** The REST resource: every message not retired, oldest first. */
  all(): SimMessage[] {
    return [...this.messages.values()];
  }

  /**
   * The truth: every message accepted and not forgotten, the retired ones unpacked (in the order
   * they were retired, about their creation order), then those still in the resource.
   */
  truth(): (SimMessage | RetiredMessage)[] {
    const retired = this.retired.slice(this.forgottenUpTo).map(unpack);
    return [...retired, ...this.messages.values()];
  }

  /** How many messages the truth holds (retired or not; forgotten ones no longer). */
  get size(): number {
    return this.retired.length - this.forgottenUpTo + this.messages.size;
  }

  /**
   * Retires the messages created and last changed before `before` (ms): their life is over, so
   * they leave the REST resource (a fetch answers 404) and their truth is kept packed. Walks
   * from where the last call stopped; stops at the first message created later. A message still
   * changing by then lingers, and is looked at again by the next calls. `now`: the retirement
   * time kept with each, for `forget`.
   */
  retire(before: number, now = Date.now()): number {
    let count = 0;
    const due = (message: SimMessage) => message.updatedAt.getTime() < before;
    const lingering = this.lingering;
    this.lingering = [];
    for (const sid of lingering) {
      const message = this.messages.get(sid);
      if (!message) continue;
      if (due(message)) count += this.retireOne(message, now);
      else this.lingering.push(sid);
    }
    while (this.retiredUpTo < this.order.length) {
      const sid = this.order[this.retiredUpTo];
      const message = this.messages.get(sid);
      if (message && message.createdAt.getTime() >= before) break;
      this.retiredUpTo += 1;
      if (!message) continue;
      if (due(message)) count += this.retireOne(message, now);
      else this.lingering.push(sid);
    }
    // The walked part of the order is dropped now and then, not on every call.
    if (this.retiredUpTo > 10_000) {
      this.order = this.order.slice(this.retiredUpTo);
      this.retiredUpTo = 0;
    }
    return count;
  }

  private retireOne(message: SimMessage, now: number): 1 {
    this.messages.delete(message.sid);
    this.retired.push(pack(message, now));
    // Its mid was used now: its create calls stay at least as long as its truth.
    if (message.mid !== null && this.creates.has(message.mid)) this.touch(message.mid, now);
    return 1;
  }

  /**
   * Forgets the truth of messages retired before `before` (ms), and the create calls of mids
   * last used before it (a call, a message created or retired) of which the store holds no
   * message any more: a later call for such a mid counts from one again. A mid is forgotten only
   * with the last of its truth, never before it. Stops at the first record, or mid, not yet due;
   * a mid due but still holding a message is marked used `now`, to be looked at again later.
   */
  forget(before: number, now = Date.now()): number {
    let count = 0;
    while (
      this.forgottenUpTo < this.retired.length &&
      packedRetiredMs(this.retired[this.forgottenUpTo]) < before
    ) {
      const mid = unpack(this.retired[this.forgottenUpTo]).mid;
      const entry = mid === null ? undefined : this.creates.get(mid);
      if (entry) entry.kept -= 1;
      this.forgottenUpTo += 1;
      count += 1;
    }
    if (this.forgottenUpTo > 10_000) {
      this.retired = this.retired.slice(this.forgottenUpTo);
      this.forgottenUpTo = 0;
    }
    const holding: string[] = [];
    for (const [mid, entry] of this.creates) {
      if (entry.lastAt >= before) break;
      // Still holding a message (one that kept changing for hours): not yet, and out of the way.
      if (entry.kept > 0) holding.push(mid);
      else this.creates.delete(mid);
    }
    for (const mid of holding) this.touch(mid, now);
    return count;
  }

  /**
   * Messages whose life ended `retainS` ago leave the resource; their truth stays `truthRetainS`
   * longer (0: forever). `retainS` 0 keeps everything.
   */
  sweep(ages: { retainS: number; truthRetainS: number }, now = Date.now()): void {
    if (ages.retainS === 0) return;
    this.retire(now - ages.retainS * 1000, now);
    if (ages.truthRetainS > 0) this.forget(now - ages.truthRetainS * 1000, now);
  }

  /** In the order each mid was last used (a create call, a message created or retired). */
  createCounts(): CreateCount[] {
    return [...this.creates.values()].map(({ mid, to, count, accepted }) => ({
      mid,
      to,
      count,
      accepted,
    }));
  }

  reset(): void {
    this.controller.abort();
    this.controller = SimStore.newController();
    this.messages.clear();
    this.order = [];
    this.retiredUpTo = 0;
    this.lingering = [];
    this.retired = [];
    this.forgottenUpTo = 0;
    this.creates.clear();
    this.createCalls = 0;
    this.callbacks = emptyCallbackStats();
  }
}
