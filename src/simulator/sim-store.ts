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
}

export function newSid(prefix: string): string {
  return `${prefix}${randomBytes(16).toString('hex')}`;
}

export function newIdempotencyToken(): string {
  return randomUUID();
}

/** Everything the simulator has accepted, newest last; `creates` counts accepted creates per mid. */
export class SimStore {
  private readonly messages = new Map<string, SimMessage>();
  private readonly creates = new Map<string, number>();
  private readonly running = new Set<Promise<void>>();
  private controller = SimStore.newController();

  // Every running message life waits on this signal: thousands of listeners are expected.
  private static newController(): AbortController {
    const controller = new AbortController();
    setMaxListeners(0, controller.signal);
    return controller;
  }
  createCalls = 0;

  /** Aborted by the next reset: every running message life stops. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  track(task: Promise<void>): void {
    this.running.add(task);
    void task.finally(() => this.running.delete(task));
  }

  add(message: SimMessage): void {
    this.messages.set(message.sid, message);
    if (message.mid !== null)
      this.creates.set(message.mid, (this.creates.get(message.mid) ?? 0) + 1);
  }

  get(sid: string): SimMessage | undefined {
    return this.messages.get(sid);
  }

  all(): SimMessage[] {
    return [...this.messages.values()];
  }

  createCounts(): { mid: string; count: number }[] {
    return [...this.creates.entries()].map(([mid, count]) => ({ mid, count }));
  }

  reset(): void {
    this.controller.abort();
    this.controller = SimStore.newController();
    this.messages.clear();
    this.creates.clear();
    this.createCalls = 0;
  }
}
