import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { DeliveryQueriesService } from '../../src/modules/delivery/queries/delivery-queries.service';
import { MessageQueriesRepository } from '../../src/modules/delivery/queries/message-queries.repository';
import { MessagesRepository } from '../../src/modules/delivery/queries/messages.repository';
import { testDatabaseUrl } from '../support/test-env';

// A window far from every other test's rows, so the shared database does not disturb the sums.
const SINCE = Date.parse('2020-03-01T00:00:00Z');
const UNTIL = Date.parse('2020-03-02T00:00:00Z');
const N = 12_000;

interface Seed {
  direction: 'outbound' | 'inbound';
  status: string;
  createdAt: number;
  acceptedAt: number | null;
  sentAt: number | null;
  deliveredAt: number | null;
  readAt: number | null;
  errorCode: number | null;
}

/** Deterministic pseudo-random numbers (mulberry32). */
function prng(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CODES = [30008, 63016, 21211, 30003, 63018];

function seedRows(): Seed[] {
  const random = prng(42);
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)];
  return Array.from({ length: N }, (): Seed => {
    // Some rows fall just outside the window, some are inbound: both must be ignored.
    const createdAt = SINCE - 3_600_000 + Math.floor(random() * (UNTIL - SINCE + 7_200_000));
    const direction = random() < 0.05 ? 'inbound' : 'outbound';
    const status = pick([
      'pending',
      'dispatching',
      'queued',
      'sent',
      'delivered',
      'delivered',
      'read',
      'read',
      'read',
      'failed',
      'undelivered',
    ]);
    const acceptedAt = ['pending', 'dispatching'].includes(status)
      ? null
      : createdAt + Math.floor(random() * 5_000);
    let sentAt =
      acceptedAt !== null && ['sent', 'delivered', 'read', 'undelivered'].includes(status)
        ? acceptedAt + Math.floor(random() * 60_000)
        : null;
    if (status === 'failed' && acceptedAt !== null && random() < 0.3)
      sentAt = acceptedAt + Math.floor(random() * 60_000);
    let deliveredAt =
      sentAt !== null && ['delivered', 'read'].includes(status)
        ? sentAt + Math.floor(random() * 300_000)
        : null;
    let readAt =
      deliveredAt !== null && status === 'read'
        ? deliveredAt + Math.floor(random() * 900_000)
        : null;
    if (status === 'read' && random() < 0.2 && readAt !== null) {
      // Out of order: read arrived first and proved every earlier stage at its own time.
      sentAt = readAt;
      deliveredAt = readAt;
      readAt = readAt + 0;
    }
    const errorCode =
      status === 'failed' || status === 'undelivered'
        ? random() < 0.9
          ? pick(CODES)
          : null
        : null;
    return { direction, status, createdAt, acceptedAt, sentAt, deliveredAt, readAt, errorCode };
  });
}

function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const position = p * (sorted.length - 1);
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return sorted[low] + (sorted[high] - sorted[low]) * (position - low);
}

function bruteForce(rows: Seed[]) {
  const inWindow = rows.filter(
    (row) => row.direction === 'outbound' && row.createdAt >= SINCE && row.createdAt < UNTIL,
  );
  const count = (predicate: (row: Seed) => boolean) => inWindow.filter(predicate).length;
  const byStatus: Record<string, number> = {};
  for (const row of inWindow) byStatus[row.status] = (byStatus[row.status] ?? 0) + 1;
  const sentOrLater = count(
    (r) =>
      ['sent', 'delivered', 'read', 'undelivered'].includes(r.status) ||
      (r.status === 'failed' && r.sentAt !== null),
  );
  const deliveredOrRead = count((r) => ['delivered', 'read'].includes(r.status));
  const read = count((r) => r.status === 'read');
  const failed = count((r) => ['failed', 'undelivered'].includes(r.status));
  const errors = new Map<number, number>();
  for (const row of inWindow) {
    if (['failed', 'undelivered'].includes(row.status) && row.errorCode !== null)
      errors.set(row.errorCode, (errors.get(row.errorCode) ?? 0) + 1);
  }
  const stage = (from: keyof Seed, to: keyof Seed) => {
    const values = inWindow
      .filter((r) => r[from] !== null && r[to] !== null && (r[to] as number) >= (r[from] as number))
      .map((r) => (r[to] as number) - (r[from] as number));
    return {
      p50: percentile(values, 0.5),
      p95: percentile(values, 0.95),
      p99: percentile(values, 0.99),
    };
  };
  return {
    total: inWindow.length,
    byStatus,
    deliveryRate: sentOrLater === 0 ? null : deliveredOrRead / sentOrLater,
    readRate: deliveredOrRead === 0 ? null : read / deliveredOrRead,
    failureRate: inWindow.length === 0 ? null : failed / inWindow.length,
    topErrors: [...errors.entries()]
      .sort((a, b) => b[1] - a[1] || a[0] - b[0])
      .slice(0, 10)
      .map(([errorCode, n]) => ({ errorCode, errorMessage: `error ${errorCode}`, count: n })),
    latencyMs: {
      acceptedToSent: stage('acceptedAt', 'sentAt'),
      sentToDelivered: stage('sentAt', 'deliveredAt'),
      deliveredToRead: stage('deliveredAt', 'readAt'),
    },
  };
}

describe('delivery metrics', () => {
  let dataSource: DataSource;
  const rows = seedRows();

  beforeAll(async () => {
    dataSource = await new DataSource(
      dataSourceOptions({ url: testDatabaseUrl(), poolSize: 2 }, []),
    ).initialize();
    const ts = (value: number | null) => (value === null ? null : new Date(value).toISOString());
    await dataSource.query(
      `INSERT INTO whatsapp_messages
         (direction, "to", status, attempts, max_attempts, created_at, accepted_at, sent_at, delivered_at,
          read_at, failed_at, error_code, error_message)
       SELECT d, 'whatsapp:+14155550100', s, 1, 8, c, a, se, de, re,
              CASE WHEN s IN ('failed', 'undelivered') THEN c END, e,
              CASE WHEN e IS NOT NULL THEN 'error ' || e END
         FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::timestamptz[],
                     $6::timestamptz[], $7::timestamptz[], $8::int[]) AS t(d, s, c, a, se, de, re, e)`,
      [
        rows.map((r) => r.direction),
        rows.map((r) => r.status),
        rows.map((r) => ts(r.createdAt)),
        rows.map((r) => ts(r.acceptedAt)),
        rows.map((r) => ts(r.sentAt)),
        rows.map((r) => ts(r.deliveredAt)),
        rows.map((r) => ts(r.readAt)),
        rows.map((r) => r.errorCode),
      ],
    );
  });

  afterAll(async () => {
    await dataSource.query(`DELETE FROM whatsapp_messages WHERE created_at < '2020-12-31'`);
    await dataSource.destroy();
  });

  it('should equal a brute-force computation over 12,000 seeded messages', async () => {
    const service = new DeliveryQueriesService(
      new MessagesRepository(dataSource),
      new MessageQueriesRepository(dataSource),
    );
    const metrics = await service.metrics({
      since: new Date(SINCE).toISOString(),
      until: new Date(UNTIL).toISOString(),
    });
    const expected = bruteForce(rows);
    expect(expected.total).toBeGreaterThan(10_000);
    expect(metrics.since).toBe(new Date(SINCE).toISOString());
    expect(metrics.total).toBe(expected.total);
    expect(metrics.byStatus).toEqual(expected.byStatus);
    expect(metrics.topErrors).toEqual(expected.topErrors);
    for (const rate of ['deliveryRate', 'readRate', 'failureRate'] as const) {
      expect(metrics[rate]).toBeCloseTo(expected[rate] as number, 10);
    }
    for (const stage of ['acceptedToSent', 'sentToDelivered', 'deliveredToRead'] as const) {
      for (const p of ['p50', 'p95', 'p99'] as const) {
        expect(metrics.latencyMs[stage][p]).toBeCloseTo(expected.latencyMs[stage][p] as number, 6);
      }
    }
  });

  it('should give null rates and percentiles for an empty window', async () => {
    const service = new DeliveryQueriesService(
      new MessagesRepository(dataSource),
      new MessageQueriesRepository(dataSource),
    );
    const metrics = await service.metrics({
      since: '2019-01-01T00:00:00Z',
      until: '2019-01-02T00:00:00Z',
    });
    expect(metrics).toMatchObject({
      total: 0,
      byStatus: {},
      deliveryRate: null,
      readRate: null,
      failureRate: null,
      topErrors: [],
      latencyMs: { acceptedToSent: { p50: null, p95: null, p99: null } },
    });
  });

  it('should refuse a window whose start is not before its end', async () => {
    const service = new DeliveryQueriesService(
      new MessagesRepository(dataSource),
      new MessageQueriesRepository(dataSource),
    );
    await expect(
      service.metrics({ since: '2020-03-02T00:00:00Z', until: '2020-03-01T00:00:00Z' }),
    ).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
  });
});
