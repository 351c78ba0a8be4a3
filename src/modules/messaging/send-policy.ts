/** WhatsApp's customer-service window: free-form messages only within 24 h of the last inbound. */
export const WINDOW_MS = 24 * 3600_000;

export interface SendPolicyInput {
  /** A template send (contentSid): always allowed inside or outside the window. */
  isTemplate: boolean;
  windowCheck: boolean;
  lastInboundAt: Date | null;
  optedOutAt: Date | null;
  now: number;
}

export type SendDecision = 'allowed' | 'opted-out' | 'window-closed';

/** Pure, table-tested: opt-out refuses everything; the window refuses only free-form sends. */
export function decideSend(input: SendPolicyInput): SendDecision {
  if (input.optedOutAt !== null) return 'opted-out';
  if (input.isTemplate || !input.windowCheck) return 'allowed';
  if (input.lastInboundAt === null) return 'window-closed';
  return input.now - input.lastInboundAt.getTime() < WINDOW_MS ? 'allowed' : 'window-closed';
}
