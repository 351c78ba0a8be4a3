import type { ClaimedDelivery } from './deliveries.repository';

/** The `ping` a subscription's test sends: not an event of the log, never in the feed. */
export function pingBody(delivery: Pick<ClaimedDelivery, 'id' | 'subscriptionId' | 'createdAt'>): {
  id: string;
  json: string;
} {
  const id = `ping_${delivery.id}`;
  return {
    id,
    json: JSON.stringify({
      id,
      type: 'ping',
      createdAt: delivery.createdAt.toISOString(),
      data: { subscriptionId: delivery.subscriptionId },
    }),
  };
}
