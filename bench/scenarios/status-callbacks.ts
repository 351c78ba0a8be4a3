// statusCallbacks: seeded `accepted` messages, each sent its signed `delivered` callback, as
// Twilio posts it, on ROLE=api. scaleOut runs the same load through its balancer.
import { randomBytes } from 'node:crypto';
import type { Client } from 'pg';
import { twilioSignature } from '../../src/simulator/twilio-signature';
import { PROXY_HEADERS } from '../lib/api-client';
import type { BenchContext } from '../lib/context';
import { load, round, type AppLoadResult } from '../lib/load';
import { log } from '../lib/log';
import type { BenchProcess } from '../lib/processes';
import { CONTENT_SID, FROM, PUBLIC_BASE_URL, secrets, STATUS_MESSAGES } from '../lib/settings';

export interface StatusCallbacksResult extends AppLoadResult {
  /** Messages really moved to `delivered`. */
  applied: number;
  /** The requests outran the seeded messages (and tested the replay guard instead). */
  wrapped?: true;
}

interface SignedCallback {
  path: string;
  body: string;
  headers: Record<string, string>;
}

/**
 * N outbound messages in `accepted` with SIDs, and one signed `delivered` callback for each. The
 * simulator never created those SIDs, so they are leased away from the reconciler and the
 * catch-up for a day: fetching them would only find 404s, and would cost the later scenarios
 * the fetches and the worker time (a run's shortfall of events once came from that).
 */
async function seedStatusCallbacks(
  db: Client,
  count: number,
  reference = 'bench-status',
): Promise<SignedCallback[]> {
  const { rows } = await db.query<{ id: string; twilio_sid: string; to: string }>(
    `INSERT INTO whatsapp_messages
       (direction, twilio_sid, "from", "to", content_sid, status, attempts, max_attempts,
        reference, accepted_at, created_at, updated_at, reconcile_lease_until)
     SELECT 'outbound', 'SM' || md5($4 || '-' || g), $2,
            'whatsapp:+1415' || lpad(g::text, 7, '0'), $3, 'accepted', 1, 8, $4,
            now(), now(), now(), now() + interval '1 day'
       FROM generate_series(1, $1::int) AS g
     RETURNING id, twilio_sid, "to"`,
    [count, FROM, CONTENT_SID, reference],
  );
  await db.query('ANALYZE whatsapp_messages');
  return rows.map((row) => {
    const path = `/api/v1/whatsapp/status?mid=${row.id}`;
    // What Twilio posts for a WhatsApp status change.
    const params = {
      AccountSid: secrets.accountSid,
      ApiVersion: '2010-04-01',
      ChannelPrefix: 'whatsapp',
      ChannelToAddress: row.to.replace('whatsapp:', ''),
      From: FROM,
      MessageSid: row.twilio_sid,
      MessageStatus: 'delivered',
      SmsSid: row.twilio_sid,
      SmsStatus: 'delivered',
      To: row.to,
    };
    return {
      path,
      body: new URLSearchParams(params).toString(),
      headers: {
        ...PROXY_HEADERS,
        'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
        'user-agent': 'TwilioProxy/1.1',
        'x-twilio-signature': twilioSignature(
          secrets.authToken,
          `${PUBLIC_BASE_URL}${path}`,
          params,
        ),
        'i-twilio-idempotency-token': randomBytes(16).toString('hex'),
      },
    };
  });
}

/**
 * Seeds `STATUS_MESSAGES` accepted messages under `reference` and sends each its signed
 * `delivered` callback at `port`; the load's figures, and how many messages really moved.
 */
export async function statusCallbacks(
  db: Client,
  port: number,
  reference: string,
  processes: Record<string, BenchProcess>,
  baselineRps: number,
): Promise<StatusCallbacksResult> {
  const callbacks = await seedStatusCallbacks(db, STATUS_MESSAGES, reference);
  let next = 0;
  log(`${reference}: signed \`delivered\` callbacks, one per message`);
  const status = await load(
    {
      url: `http://127.0.0.1:${port}`,
      requests: [
        {
          method: 'POST',
          setupRequest: (request) => ({ ...request, ...callbacks[next++ % callbacks.length] }),
        },
      ],
    },
    processes,
  );
  const applied = await db.query<{ n: string }>(
    `SELECT count(*) AS n FROM whatsapp_messages WHERE reference = $1 AND status = 'delivered'`,
    [reference],
  );
  return {
    rps: status.rps,
    p50Ms: status.p50Ms,
    p99Ms: status.p99Ms,
    ratioToBaseline: round(status.rps / baselineRps, 3),
    non2xx: status.non2xx,
    errors: status.errors,
    requests: status.requests,
    applied: Number(applied.rows[0].n),
    cpuPercent: status.cpuPercent,
    ...(next > callbacks.length ? { wrapped: true as const } : {}),
  };
}

/** The scenario, on the ROLE=api process `api` listening on the api port. */
export async function runStatusCallbacks(
  context: BenchContext,
  api: BenchProcess,
): Promise<StatusCallbacksResult> {
  log(`statusCallbacks: seeding ${STATUS_MESSAGES.toLocaleString('en-US')} accepted messages`);
  return statusCallbacks(
    context.db,
    context.ports.api,
    'bench-status',
    { api },
    context.baselineRps,
  );
}
