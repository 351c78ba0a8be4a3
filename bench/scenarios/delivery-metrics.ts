// deliveryMetrics: 200 × GET /api/v1/whatsapp/delivery-metrics (the last 24 h: everything
// seeded and sent so far), 4 connections, on the api endToEnd started.
import autocannon from 'autocannon';
import type { Client } from 'pg';
import { PROXY_HEADERS } from '../lib/api-client';
import { summarize } from '../lib/load';
import { log } from '../lib/log';

export interface DeliveryMetricsResult {
  p50Ms: number;
  p99Ms: number;
  rps: number;
  non2xx: number;
  requests: number;
  /** Outbound messages in the database, all in the last 24 h. */
  messagesInWindow: number;
}

export async function deliveryMetrics(
  db: Client,
  apiPort: number,
  token: string,
): Promise<DeliveryMetricsResult> {
  log('deliveryMetrics: GET /api/v1/whatsapp/delivery-metrics (last 24 h), 4 connections');
  const metrics = summarize(
    await autocannon({
      url: `http://127.0.0.1:${apiPort}/api/v1/whatsapp/delivery-metrics`,
      connections: 4,
      amount: 200,
      headers: { ...PROXY_HEADERS, authorization: `Bearer ${token}` },
    }),
  );
  const counted = await db.query<{ n: string }>(
    `SELECT count(*) AS n FROM whatsapp_messages WHERE direction = 'outbound'`,
  );
  return {
    p50Ms: metrics.p50Ms,
    p99Ms: metrics.p99Ms,
    rps: metrics.rps,
    non2xx: metrics.non2xx,
    requests: metrics.requests,
    messagesInWindow: Number(counted.rows[0].n),
  };
}
