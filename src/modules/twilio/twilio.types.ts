/** How long one call to Twilio's REST API may take before it counts as failed. */
export const TWILIO_API_TIMEOUT_MS = 10_000;

/** What the app asks Twilio to send (wire names are the adapter's business). */
export interface CreateMessageInput {
  to: string;
  /** A `whatsapp:+E164` sender; or leave it out and give `messagingServiceSid`. */
  from?: string;
  messagingServiceSid?: string;
  body?: string;
  mediaUrls?: string[];
  contentSid?: string;
  contentVariables?: Record<string, string>;
  statusCallback?: string;
}

/** A message as Twilio reports it. */
export interface TwilioMessage {
  sid: string;
  status: string;
  to: string;
  from: string;
  body: string | null;
  messagingServiceSid: string | null;
  errorCode: number | null;
  errorMessage: string | null;
  numMedia: number;
  dateCreated: Date | null;
  dateSent: Date | null;
  dateUpdated: Date | null;
}

export interface ListMessagesFilter {
  to?: string;
  from?: string;
  /** Messages sent at or after this time. */
  dateSentAfter?: Date;
  /** At most this many, newest first (default 50). */
  limit?: number;
}

export interface TwilioSettings {
  accountSid: string;
  authToken: string;
  /** Unset = Twilio itself; otherwise the origin to send the SDK's requests to (the simulator). */
  apiBaseUrl: string | undefined;
  timeoutMs: number;
}
