import { isWindowOpen } from '../delivery/contacts/contact-window';

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
  return isWindowOpen(input.lastInboundAt, input.now) ? 'allowed' : 'window-closed';
}
