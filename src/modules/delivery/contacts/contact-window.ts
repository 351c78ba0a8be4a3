/** WhatsApp's customer-service window: free-form messages only within 24 h of the last inbound. */
export const WINDOW_MS = 24 * 3600_000;

/** When the contact's window closes, or null if they never wrote. */
export function windowExpiresAt(lastInboundAt: Date | null): Date | null {
  return lastInboundAt === null ? null : new Date(lastInboundAt.getTime() + WINDOW_MS);
}

export function isWindowOpen(lastInboundAt: Date | null, now: number): boolean {
  const expires = windowExpiresAt(lastInboundAt);
  return expires !== null && expires.getTime() > now;
}
