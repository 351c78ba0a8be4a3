/** Queue names: one processor per queue. */
export enum QueueName {
  Outbound = 'outbound',
}

/** Jobs of the outbound queue. */
export enum OutboundJob {
  Send = 'send',
}

/** Payloads carry ids only; the handler reloads the row (it may have moved on). */
export interface SendJobData {
  messageId: string;
}

/** Unique per attempt: BullMQ silently drops an id it already holds, failed jobs included. */
export function sendJobId(messageId: string, attempt: number): string {
  return `${messageId}-${attempt}`;
}
