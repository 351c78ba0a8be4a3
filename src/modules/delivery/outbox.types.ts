/** A send as the API accepted it, before any worker holds it. */
export interface NewOutboundMessage {
  from: string | null;
  to: string;
  body: string | null;
  contentSid: string | null;
  contentVariables: Record<string, string> | null;
  mediaUrls: string[];
  reference: string | null;
  metadata: Record<string, unknown> | null;
  createdBy: string;
  idempotencyKey: string | null;
  maxAttempts: number;
}

/** A message a worker now holds (`dispatching`), with what it needs to call Twilio. */
export interface ClaimedMessage extends Pick<
  NewOutboundMessage,
  'from' | 'to' | 'body' | 'contentSid' | 'contentVariables' | 'mediaUrls' | 'maxAttempts'
> {
  id: string;
  /** This attempt's number (1 for the first). */
  attempts: number;
  /** Set when an earlier attempt may have reached Twilio: look it up from then before sending. */
  uncertainSince: Date | null;
}

export interface DueMessage {
  id: string;
  attempts: number;
}

/** Twilio's answer to the create call (or the message an earlier attempt created). */
export interface TwilioAnswer {
  sid: string;
  status: string;
  errorCode: number | null;
  errorMessage: string | null;
}
