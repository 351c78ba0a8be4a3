import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { ReconcilerService } from '../../src/modules/delivery/reconcile/reconciler.service';
import { RetentionService } from '../../src/modules/delivery/reconcile/retention.service';
import { TwilioClient } from '../../src/modules/twilio/twilio.client';
import { IdempotencyExpiryService } from '../../src/modules/messaging/idempotency-expiry.service';
import { dropDatabase, ensureDatabase, runMigrations } from '../../src/database/database-setup';
import { createUser, type TestUser } from '../factories/users.factory';
import { databaseUrlFor } from '../support/test-env';
import { Stack } from '../support/stack';

const newNumber = () => `+1415${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;

describe('delivery APIs', () => {
  let stack: Stack;
  let viewer: TestUser;

  beforeAll(async () => {
    stack = await Stack.start({ WINDOW_CHECK: 'off' }, {}, { listen: true });
    viewer = await createUser(stack.app, 'viewer');
  });

  afterAll(async () => {
    await stack.close();
  });

  const get = (url: string, token = viewer.token) =>
    stack.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });

  it('should show a message by our id and by its SID, with its history in arrival order', async () => {
    const id = (
      await stack.send({ to: newNumber(), message: 'track me', reference: 'ref-1' })
    ).json<{ id: string }>().id;
    const row = await stack.waitFor(id, (r) => r.status === 'read');
    const byId = await get(`/api/v1/whatsapp/delivery-status/${id}`);
    const bySid = await get(`/api/v1/whatsapp/delivery-status/${String(row.twilio_sid)}`);
    expect(byId.statusCode).toBe(200);
    expect(bySid.json()).toEqual(byId.json());
    const message = byId.json<
      Record<string, unknown> & { history: { status: string; source: string }[] }
    >();
    expect(message).toMatchObject({
      id,
      messageSid: row.twilio_sid,
      direction: 'outbound',
      status: 'read',
      body: 'track me',
      reference: 'ref-1',
      mediaUrls: [],
      errorCode: null,
      attempts: 1,
      sentAt: expect.any(String),
      deliveredAt: expect.any(String),
      readAt: expect.any(String),
      failedAt: null,
    });
    // Arrival order: the worker's `queued` may come after a callback that beat it.
    const statuses = message.history.map((entry) => entry.status);
    expect(statuses[0]).toBe('pending');
    // The worker's claim commits before it calls Twilio, so its `dispatching` comes first.
    expect(statuses.filter((status) => status !== 'queued' && status !== 'pending')).toEqual([
      'dispatching',
      'sent',
      'delivered',
      'read',
    ]);
    expect(statuses).toContain('queued');
    expect(message.history[0]).toEqual({
      status: 'pending',
      source: 'api',
      applied: true,
      errorCode: null,
      errorMessage: null,
      receivedAt: expect.any(String),
    });
  });

  it.each([randomUUID(), `SM${'0'.repeat(32)}`, 'not-an-id', "1' OR 1=1 --", '%00'])(
    'should answer 404 NOT_FOUND for %p, never 500',
    async (id) => {
      const res = await get(`/api/v1/whatsapp/delivery-status/${encodeURIComponent(id)}`);
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({ code: 'NOT_FOUND' });
    },
  );

  it('should list newest first with filters, and a cursor that stays stable while rows are inserted', async () => {
    const to = newNumber();
    const reference = `batch-${randomUUID()}`;
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      ids.push((await stack.send({ to, message: `m${i}`, reference })).json<{ id: string }>().id);
    }
    const first = await get(`/api/v1/whatsapp/messages?reference=${reference}&limit=2`);
    expect(first.statusCode).toBe(200);
    const page1 = first.json<{ items: { id: string; history?: unknown }[]; nextCursor: string }>();
    expect(page1.items.map((item) => item.id)).toEqual([ids[4], ids[3]]);
    expect(page1.items[0].history).toBeUndefined();
    // New rows arrive between pages: they are newer, so they never shift the next page.
    await stack.send({ to, message: 'late', reference });
    const page2 = (
      await get(
        `/api/v1/whatsapp/messages?reference=${reference}&limit=2&cursor=${page1.nextCursor}`,
      )
    ).json<{
      items: { id: string }[];
      nextCursor: string;
    }>();
    expect(page2.items.map((item) => item.id)).toEqual([ids[2], ids[1]]);
    const page3 = (
      await get(
        `/api/v1/whatsapp/messages?reference=${reference}&limit=2&cursor=${page2.nextCursor}`,
      )
    ).json<{
      items: { id: string }[];
      nextCursor: string | null;
    }>();
    expect(page3.items.map((item) => item.id)).toEqual([ids[0]]);
    expect(page3.nextCursor).toBeNull();
    const byTo = (
      await get(
        `/api/v1/whatsapp/messages?to=${encodeURIComponent(to)}&direction=outbound&limit=200`,
      )
    ).json<{
      items: { to: string }[];
    }>();
    expect(byTo.items).toHaveLength(6);
    expect(byTo.items.every((item) => item.to === `whatsapp:${to}`)).toBe(true);
    const none = (
      await get(
        `/api/v1/whatsapp/messages?reference=${reference}&since=2000-01-01T00:00:00Z&until=2000-01-02T00:00:00Z`,
      )
    ).json<{
      items: unknown[];
    }>();
    expect(none.items).toEqual([]);
  });

  it.each([
    'limit=0',
    'limit=201',
    'limit=x',
    'status=bogus',
    'direction=sideways',
    'since=yesterday',
    'cursor=garbage',
    'extra=1',
  ])('should refuse ?%s with 400', async (query) => {
    const res = await get(`/api/v1/whatsapp/messages?${query}`);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('should expose every documented metric with its labels after a small send/callback run', async () => {
    const id = (await stack.send({ to: newNumber(), message: 'metrics' })).json<{ id: string }>()
      .id;
    await stack.waitFor(id, (r) => r.status === 'read');
    const body = (await stack.app.inject({ method: 'GET', url: '/metrics' })).body;
    for (const pattern of [
      /http_request_duration_seconds_count\{method="POST",route="\/api\/v1\/whatsapp\/send",status="202"\}/,
      /whatsapp_messages_total\{direction="outbound",status="pending"\} [1-9]/,
      /whatsapp_messages_total\{direction="outbound",status="read"\} [1-9]/,
      /whatsapp_send_attempts_total\{result="ok",error_code=""\} [1-9]/,
      /whatsapp_status_events_total\{status="read",applied="true"\} [1-9]/,
      /whatsapp_delivery_seconds_count\{stage="accepted_to_sent"\} [1-9]/,
      /whatsapp_delivery_seconds_count\{stage="sent_to_delivered"\} [1-9]/,
      /whatsapp_delivery_seconds_count\{stage="delivered_to_read"\} [1-9]/,
      /twilio_webhook_requests_total\{endpoint="status",result="ok"\} [1-9]/,
      /whatsapp_queue_jobs\{state="waiting"\} \d/,
      /whatsapp_messages_stuck \d/,
      /whatsapp_dependency_up\{dependency="postgres"\} 1/,
      /whatsapp_dependency_up\{dependency="redis"\} 1/,
    ]) {
      expect(body).toMatch(pattern);
    }
  });

  it('should serve delivery metrics for the last 24 h by default, to any role', async () => {
    const res = await get('/api/v1/whatsapp/delivery-metrics');
    expect(res.statusCode).toBe(200);
    const body = res.json<{
      since: string;
      until: string;
      total: number;
      latencyMs: Record<string, unknown>;
    }>();
    expect(Date.parse(body.until) - Date.parse(body.since)).toBe(24 * 3600_000);
    expect(body.total).toBeGreaterThan(0);
    expect(Object.keys(body.latencyMs)).toEqual([
      'acceptedToSent',
      'sentToDelivered',
      'deliveredToRead',
    ]);
    expect(
      (
        await get(
          '/api/v1/whatsapp/delivery-metrics?since=2020-01-02T00:00:00Z&until=2020-01-01T00:00:00Z',
        )
      ).statusCode,
    ).toBe(400);
  });

  it('should show a contact with its window, let an admin clear an opt-out, and erase it on request', async () => {
    const phone = newNumber();
    const inbound = await fetch(`${stack.sim.url}/__sim/inbound`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: phone, body: 'STOP', profileName: 'Bea' }),
    });
    expect(((await inbound.json()) as { webhookStatus: number }).webhookStatus).toBe(200);
    const contact = await get(`/api/v1/contacts/${encodeURIComponent(phone)}`);
    expect(contact.json()).toMatchObject({
      phone,
      waId: phone.slice(1),
      profileName: 'Bea',
      lastInboundAt: expect.any(String),
      windowOpen: true,
      windowExpiresAt: expect.any(String),
      optedOutAt: expect.any(String),
    });
    const admin = await stack.adminToken();
    const patch = (token: string) =>
      stack.app.inject({
        method: 'PATCH',
        url: `/api/v1/contacts/${encodeURIComponent(`whatsapp:${phone}`)}`,
        headers: { authorization: `Bearer ${token}` },
        payload: { optedOut: false },
      });
    expect((await patch(viewer.token)).statusCode).toBe(403);
    expect((await patch(admin)).json()).toMatchObject({ phone, optedOutAt: null });

    const sent = (await stack.send({ to: phone, message: 'private words' })).json<{ id: string }>()
      .id;
    await stack.waitFor(sent, (row) => row.status === 'read');
    // Twilio's error texts quote the number; so does an orphan callback's payload.
    const naming = `The 'To' number ${phone.slice(1)} is not a valid phone number.`;
    await stack.db.query(
      'UPDATE whatsapp_messages SET error_code = 21211, error_message = $2 WHERE id = $1',
      [sent, naming],
    );
    await stack.db.query(
      'UPDATE message_status_logs SET error_message = $2 WHERE message_id = $1',
      [sent, naming],
    );
    const orphanSid = `SM${randomUUID().replace(/-/g, '')}`;
    const otherSid = `SM${randomUUID().replace(/-/g, '')}`;
    for (const [sid, to] of [
      [orphanSid, phone],
      [otherSid, newNumber()],
    ]) {
      const callback = await stack.signedPost('/api/v1/whatsapp/status', {
        AccountSid: `AC${'1'.repeat(32)}`,
        From: 'whatsapp:+14155238886',
        To: `whatsapp:${to}`,
        MessageSid: sid,
        MessageStatus: 'undelivered',
        ErrorCode: '63024',
        ErrorMessage: `Invalid recipient ${to}`,
      });
      expect(callback.statusCode).toBe(200);
    }
    const erased = await stack.app.inject({
      method: 'DELETE',
      url: `/api/v1/contacts/${encodeURIComponent(phone)}`,
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(erased.statusCode).toBe(204);
    expect((await get(`/api/v1/contacts/${encodeURIComponent(phone)}`)).statusCode).toBe(404);
    const rows = await stack.db.query<
      { body: string | null; to: string; from: string | null; status: string }[]
    >(
      `SELECT body, "to", "from", status FROM whatsapp_messages WHERE "to" LIKE 'erased:%' OR "from" LIKE 'erased:%'`,
    );
    const leftovers = await stack.db.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM whatsapp_messages WHERE "to" = $1 OR "from" = $1`,
      [`whatsapp:${phone}`],
    );
    expect(leftovers[0].n).toBe(0);
    expect(rows.length).toBeGreaterThanOrEqual(2);
    expect(rows.every((row) => row.body === null)).toBe(true);
    const [message] = await stack.db.query<
      { error_code: number | null; error_message: string | null }[]
    >('SELECT error_code, error_message FROM whatsapp_messages WHERE id = $1', [sent]);
    expect(message).toEqual({ error_code: 21211, error_message: null });
    // Both directions: the inbound STOP and the send, every event row kept but emptied.
    const events = await stack.db.query<
      { payload: unknown; error_message: string | null; direction: string }[]
    >(
      `SELECT l.payload, l.error_message, m.direction FROM message_status_logs l
         JOIN whatsapp_messages m ON m.id = l.message_id
        WHERE m."to" LIKE 'erased:%' OR m."from" LIKE 'erased:%'`,
    );
    expect(new Set(events.map((event) => event.direction))).toEqual(
      new Set(['inbound', 'outbound']),
    );
    expect(
      events.filter((event) => event.payload !== null || event.error_message !== null),
    ).toEqual([]);
    const orphans = await stack.db.query<
      { twilio_sid: string; status: string; payload: unknown; error_message: string | null }[]
    >(
      `SELECT twilio_sid, status, payload, error_message FROM message_status_logs
        WHERE message_id IS NULL AND twilio_sid = ANY($1)`,
      [[orphanSid, otherSid]],
    );
    expect(orphans.find((row) => row.twilio_sid === orphanSid)).toEqual({
      twilio_sid: orphanSid,
      status: 'undelivered',
      payload: null,
      error_message: null,
    });
    expect(orphans.find((row) => row.twilio_sid === otherSid)).toMatchObject({
      payload: expect.objectContaining({ MessageSid: otherSid }),
      error_message: expect.stringContaining('Invalid recipient'),
    });
    const [{ n: traces }] = await stack.db.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM message_status_logs
        WHERE payload::text LIKE $1 OR error_message LIKE $1`,
      [`%${phone.slice(1)}%`],
    );
    expect(traces).toBe(0);
  });

  it('should answer 404 for an unknown or malformed contact', async () => {
    expect((await get('/api/v1/contacts/%2B14155559999')).statusCode).toBe(404);
    expect((await get('/api/v1/contacts/not-a-phone')).statusCode).toBe(404);
  });

  it('should clear old raw payloads, old events and day-old idempotency keys in the retention pass', async () => {
    const id = (
      await stack.send(
        { to: newNumber(), message: 'old' },
        { idempotencyKey: `ret-${randomUUID()}` },
      )
    ).json<{ id: string }>().id;
    await stack.waitFor(id, (r) => r.status === 'read');
    await stack.db.query(
      `UPDATE message_status_logs SET received_at = now() - interval '40 days' WHERE message_id = $1`,
      [id],
    );
    await stack.db.query(
      `UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE user_id = $1`,
      [stack.sender.id],
    );
    // Its events (queued … read) are older than RETENTION_DAYS (30) but the last one.
    await stack.db.query(
      `UPDATE events SET created_at = now() - interval '31 days'
        WHERE message_id = $1 AND sequence < (SELECT max(sequence) FROM events WHERE message_id = $1)`,
      [id],
    );
    const result = await stack.app.get(RetentionService, { strict: false }).runOnce();
    expect(result.payloadsCleared).toBeGreaterThan(0);
    expect(result.eventsDeleted).toBeGreaterThan(0);
    const left = await stack.db.query<{ sequence: number }[]>(
      'SELECT sequence FROM events WHERE message_id = $1',
      [id],
    );
    expect(left).toHaveLength(1);
    // Idempotency keys are messaging's, and messaging expires them.
    const expiry = stack.app.get(IdempotencyExpiryService, { strict: false });
    expect(await expiry.runOnce()).toBeGreaterThan(0);
    const [{ keys }] = await stack.db.query<{ keys: number }[]>(
      `SELECT count(*)::int AS keys FROM idempotency_keys
        WHERE user_id = $1 AND created_at < now() - interval '24 hours'`,
      [stack.sender.id],
    );
    expect(keys).toBe(0);
    const [{ n }] = await stack.db.query<{ n: number }[]>(
      'SELECT count(*)::int AS n FROM message_status_logs WHERE message_id = $1 AND payload IS NOT NULL',
      [id],
    );
    expect(n).toBe(0);
  });
});

describe('reconciler', () => {
  // Its own database: the reconciler looks at every message, and other files leave theirs open.
  const url = databaseUrlFor(`wa_test_${Date.now()}_${randomUUID().slice(0, 6)}_reconcile`);

  beforeAll(async () => {
    await ensureDatabase(url);
    await runMigrations({ url, poolSize: 2 });
  });

  afterAll(async () => {
    await dropDatabase(url);
  });

  it('should give 500 messages whose callbacks were all dropped their true final status in one pass', async () => {
    const stack = await Stack.start(
      {
        DATABASE_URL: url,
        WINDOW_CHECK: 'off',
        RECONCILE_EVERY: '3600',
        RECONCILE_AFTER: '0',
        STUCK_AFTER: '1',
        SEND_RATE_LIMIT: '100000',
        TWILIO_MPS: '0',
      },
      { dropRate: 1, failRate: 0.1, failCode: 30008 },
      { listen: true },
    );
    try {
      const ids: string[] = [];
      for (let i = 0; i < 500; i += 25) {
        const batch = await Promise.all(
          Array.from({ length: 25 }, (_, j) =>
            stack.send({ to: newNumber(), message: `r${i + j}` }),
          ),
        );
        ids.push(...batch.map((res) => res.json<{ id: string }>().id));
      }
      await stack.settle(60_000);
      // Twilio's side finishes its lives (the callbacks are all dropped), and STUCK_AFTER passes.
      for (let i = 0; i < 200; i += 1) {
        const open = (await stack.truth()).messages.filter(
          (message) => !['read', 'undelivered', 'failed'].includes(message.status),
        );
        if (open.length === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      const stuckBefore = (await stack.app.inject({ method: 'GET', url: '/metrics' })).body.match(
        /whatsapp_messages_stuck (\d+)/,
      )?.[1];
      expect(Number(stuckBefore)).toBeGreaterThanOrEqual(500);
      // Two replicas' passes at once share the work: each message is leased, so looked at once.
      const fetched = countFetches(stack);
      const reconciler = stack.app.get(ReconcilerService, { strict: false });
      const runs = await Promise.all([reconciler.runOnce(), reconciler.runOnce()]);
      expect(runs[0].checked + runs[1].checked).toBe(500);
      expect(fetched).toHaveLength(500);
      expect(new Set(fetched).size).toBe(500);
      const truth = new Map(
        (await stack.truth()).messages.map((message) => [message.mid, message]),
      );
      const rows = await stack.db.query<
        { id: string; status: string; error_code: number | null }[]
      >('SELECT id, status, error_code FROM whatsapp_messages WHERE id = ANY($1)', [ids]);
      for (const row of rows) {
        expect({ status: row.status, errorCode: row.error_code }).toEqual({
          status: truth.get(row.id)?.status,
          errorCode: truth.get(row.id)?.errorCode,
        });
      }
      const stuckAfter = (await stack.app.inject({ method: 'GET', url: '/metrics' })).body.match(
        /whatsapp_messages_stuck (\d+)/,
      )?.[1];
      expect(stuckAfter).toBe('0');
    } finally {
      await stack.close();
    }
  }, 120_000);

  it('should hold no transaction open while Twilio answers, and let two replicas fetch each message once', async () => {
    const stack = await Stack.start(
      {
        DATABASE_URL: url,
        WINDOW_CHECK: 'off',
        RECONCILE_EVERY: '3600',
        RECONCILE_AFTER: '0',
        SEND_RATE_LIMIT: '100000',
        TWILIO_MPS: '0',
      },
      { dropRate: 1 },
      { listen: true },
    );
    const watcher = new Client({ connectionString: url });
    await watcher.connect();
    try {
      const ids: string[] = [];
      for (let i = 0; i < 60; i += 20) {
        const batch = await Promise.all(
          Array.from({ length: 20 }, () => stack.send({ to: newNumber(), message: 'slow' })),
        );
        ids.push(...batch.map((res) => res.json<{ id: string }>().id));
      }
      await stack.settle(60_000);
      // Every callback was dropped: all 60 are due. Twilio now takes 500 ms per answer.
      await fetch(`${stack.sim.url}/__sim/config`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ apiDelayMs: 500 }),
      });
      const fetched = countFetches(stack);
      const reconciler = stack.app.get(ReconcilerService, { strict: false });
      let longestIdleMs = 0;
      let samples = 0;
      let passing = true;
      const passes = Promise.all([reconciler.runOnce(), reconciler.runOnce()]).finally(() => {
        passing = false;
      });
      while (passing) {
        const [{ ms }] = (
          await watcher.query<{ ms: number | null }>(
            `SELECT max(extract(epoch FROM clock_timestamp() - state_change) * 1000)::float8 AS ms
               FROM pg_stat_activity
              WHERE datname = current_database() AND application_name = 'whatsapp-backend'
                AND state LIKE 'idle in transaction%'`,
          )
        ).rows;
        longestIdleMs = Math.max(longestIdleMs, ms ?? 0);
        samples += 1;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const runs = await passes;
      // 60 answers at 500 ms, 8 at a time per replica: the passes took seconds, sampled throughout.
      expect(samples).toBeGreaterThan(20);
      expect(longestIdleMs).toBeLessThan(200);
      expect(runs[0].checked + runs[1].checked).toBeGreaterThanOrEqual(60);
      const sids = new Set(
        (
          await stack.db.query<{ twilio_sid: string }[]>(
            'SELECT twilio_sid FROM whatsapp_messages WHERE id = ANY($1)',
            [ids],
          )
        ).map((row) => row.twilio_sid),
      );
      // Each message fetched exactly once between the two replicas, and nothing else.
      expect([...fetched].sort()).toEqual([...sids].sort());
      const [{ leased }] = await stack.db.query<{ leased: number }[]>(
        `SELECT count(*)::int AS leased FROM whatsapp_messages
          WHERE id = ANY($1) AND (reconcile_lease_until IS NOT NULL OR reconciled_at IS NULL)`,
        [ids],
      );
      expect(leased).toBe(0);
    } finally {
      await watcher.end();
      await stack.close();
    }
  }, 120_000);
});

/** The SIDs the app asks Twilio about from now on, in order (the real call still goes out). */
function countFetches(stack: Stack): string[] {
  const twilio = stack.app.get(TwilioClient, { strict: false });
  const fetched: string[] = [];
  const fetchMessage = twilio.fetchMessage.bind(twilio);
  twilio.fetchMessage = (sid) => {
    fetched.push(sid);
    return fetchMessage(sid);
  };
  return fetched;
}
