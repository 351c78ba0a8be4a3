import { randomBytes } from 'node:crypto';
import { encodeFeedCursor } from '../../src/modules/events/feed/feed-cursor';
import { createUser, type TestUser } from '../factories/users.factory';
import { Stack } from '../support/stack';

const newNumber = () => `+1415${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;

interface FeedEvent {
  id: string;
  type: string;
  createdAt: string;
  cursor: string;
  data: Record<string, unknown>;
}

// GET /api/v1/events through the app: what a client catching up sees.
describe('the events feed', () => {
  let stack: Stack;
  let viewer: TestUser;

  beforeAll(async () => {
    stack = await Stack.start({ WINDOW_CHECK: 'off' }, {}, { listen: true });
    viewer = await createUser(stack.app, 'viewer');
  });

  afterAll(async () => {
    await stack.close();
  });

  const get = (url: string, token: string | null = viewer.token) =>
    stack.app.inject({
      method: 'GET',
      url,
      headers: token === null ? {} : { authorization: `Bearer ${token}` },
    });

  /** A cursor before every event a transaction still open can commit. */
  const head = async (): Promise<string> => {
    const [{ xmin }] = await stack.db.query<{ xmin: string }[]>(
      'SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin',
    );
    return encodeFeedCursor({ xid: (BigInt(xmin) - 1n).toString(), id: String(2n ** 63n - 1n) });
  };

  const readAll = async (after: string, query = ''): Promise<FeedEvent[]> => {
    const seen: FeedEvent[] = [];
    let cursor = after;
    for (;;) {
      const res = await get(`/api/v1/events?limit=3&after=${cursor}${query}`);
      expect(res.statusCode).toBe(200);
      const page = res.json<{ items: FeedEvent[]; nextCursor: string }>();
      seen.push(...page.items);
      if (page.items.length === 0) {
        expect(page.nextCursor).toBe(cursor);
        return seen;
      }
      cursor = page.nextCursor;
    }
  };

  it("should serve a message's status changes and an inbound message, in order, in the documented shapes", async () => {
    const start = await head();
    const to = newNumber();
    const id = (
      await stack.send({
        to,
        message: 'feed me',
        reference: 'feed-1',
        metadata: { orderId: 7 },
      })
    ).json<{ id: string }>().id;
    const row = await stack.waitFor(id, (r) => r.status === 'read');
    const sim = await fetch(`${stack.sim.url}/__sim/inbound`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: to, body: 'Thanks!', profileName: 'Ana' }),
    });
    const { messageSid } = (await sim.json()) as { messageSid: string };

    const events = await readAll(start);
    const status = events.filter((event) => event.data.messageId === id);
    expect(status.map((event) => event.data.sequence)).toEqual(
      status.map((_event, index) => index + 1),
    );
    // Each change's previous status is the one before it; the last is `read`.
    status.forEach((event, index) =>
      expect(event.data.previousStatus).toBe(
        index === 0 ? 'pending' : status[index - 1].data.status,
      ),
    );
    expect(status.at(-1)?.data.status).toBe('read');
    for (const event of status) {
      expect(event).toEqual({
        id: expect.stringMatching(/^evt_\d+$/),
        type: 'message.status',
        createdAt: expect.any(String),
        cursor: expect.any(String),
        data: {
          messageId: id,
          messageSid: row.twilio_sid,
          sequence: expect.any(Number),
          previousStatus: expect.any(String),
          status: expect.any(String),
          errorCode: null,
          errorMessage: null,
          reference: 'feed-1',
          metadata: { orderId: 7 },
          occurredAt: expect.any(String),
        },
      });
    }
    const inbound = events.filter((event) => event.data.messageSid === messageSid);
    expect(inbound).toHaveLength(1);
    expect(inbound[0]).toMatchObject({
      type: 'message.inbound',
      data: {
        messageSid,
        direction: 'inbound',
        status: 'received',
        from: `whatsapp:${to}`,
        body: 'Thanks!',
      },
    });
    expect(new Set(events.map((event) => event.id)).size).toBe(events.length);

    const onlyInbound = await readAll(start, '&type=message.inbound');
    expect(onlyInbound.every((event) => event.type === 'message.inbound')).toBe(true);
    expect(onlyInbound.map((event) => event.id)).toContain(inbound[0].id);

    // From the beginning: no cursor, the oldest first.
    const first = await get('/api/v1/events?limit=1');
    expect(first.json<{ items: FeedEvent[] }>().items).toHaveLength(1);
  });

  it.each([
    ['after=x', 'after'],
    [`after=${Buffer.from('1.0').toString('base64url')}`, 'after'],
    [`after=${Buffer.from('18446744073709551616.1').toString('base64url')}`, 'after'],
    [`after=${Buffer.from('1.9223372036854775808').toString('base64url')}`, 'after'],
    [`after=${'A'.repeat(101)}`, 'after'],
    ['limit=0', 'limit'],
    ['limit=501', 'limit'],
    ['limit=abc', 'limit'],
    ['type=ping', 'type'],
    ['type=message.status&type=message.inbound', 'type'],
  ])('should refuse %s with 400 VALIDATION_FAILED on %s', async (query, field) => {
    const res = await get(`/api/v1/events?${query}`);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      code: 'VALIDATION_FAILED',
      details: expect.arrayContaining([expect.objectContaining({ field })]),
    });
  });

  it('should answer 401 without a token', async () => {
    expect((await get('/api/v1/events', null)).statusCode).toBe(401);
    expect((await get('/api/v1/events', randomBytes(8).toString('hex'))).statusCode).toBe(401);
  });

  it('should export how long the feed holds committed events back', async () => {
    const body = (await stack.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(body).toMatch(/^whatsapp_events_feed_lag_seconds \d+(\.\d+)?(e-\d+)?$/m);
  });
});
