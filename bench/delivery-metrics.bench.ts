// npm run bench:metrics — seeds 1 M messages and 4 M status events evenly over 10 days in a
// database of its own, then times GET /delivery-metrics' computation for the last 24 h beside a
// baseline from the same run (a plain count over the same window). Prints a table and writes it
// to bench/results/. A benchmark, never a test: nothing here asserts a time.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../src/database/data-source-options';
import { dropDatabase, ensureDatabase, runMigrations } from '../src/database/database-setup';
import { DeliveryQueriesService } from '../src/modules/delivery/queries/delivery-queries.service';
import { MessageQueriesRepository } from '../src/modules/delivery/queries/message-queries.repository';
import { MessagesRepository } from '../src/modules/delivery/queries/messages.repository';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 1_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const ADMIN_URL =
  process.env.BENCH_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const END = Date.parse('2026-01-11T00:00:00Z');
const START = END - 10 * 24 * 3600_000;

async function timed<T>(work: () => Promise<T>): Promise<number> {
  const started = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

function summary(samples: number[]): { median: number; p95: number; min: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  return { median: at(0.5), p95: at(0.95), min: sorted[0] };
}

async function seed(dataSource: DataSource): Promise<number> {
  const ms = await timed(() =>
    dataSource.transaction(async (manager) => {
      await manager.query('SET LOCAL statement_timeout = 0');
      await manager.query(
        `INSERT INTO whatsapp_messages
         (direction, twilio_sid, "to", body, status, attempts, max_attempts, created_at, updated_at,
          accepted_at, sent_at, delivered_at, read_at, failed_at, error_code, error_message)
       SELECT 'outbound', 'SM' || md5(g::text), 'whatsapp:+1415' || lpad((g % 9000000)::text, 7, '0'),
              'bench', s.status, 1, 8, c, c, c + interval '1 second',
              CASE WHEN s.status IN ('sent', 'delivered', 'read', 'undelivered') THEN c + interval '3 seconds' END,
              CASE WHEN s.status IN ('delivered', 'read') THEN c + interval '20 seconds' * (1 + r) END,
              CASE WHEN s.status = 'read' THEN c + interval '10 minutes' * (1 + r) END,
              CASE WHEN s.status IN ('failed', 'undelivered') THEN c + interval '30 seconds' END,
              CASE WHEN s.status IN ('failed', 'undelivered') THEN (ARRAY[30008, 63016, 30003, 63018])[1 + (g % 4)] END,
              CASE WHEN s.status IN ('failed', 'undelivered') THEN 'bench error' END
         FROM generate_series(1, $1::int) AS g,
              LATERAL (SELECT random() AS r,
                              to_timestamp($2::double precision / 1000) + (g::double precision / $1) * interval '10 days' AS c) AS x,
              LATERAL (SELECT CASE WHEN r < 0.60 THEN 'read' WHEN r < 0.85 THEN 'delivered'
                                   WHEN r < 0.92 THEN 'sent' WHEN r < 0.96 THEN 'undelivered'
                                   ELSE 'failed' END AS status) AS s`,
        [MESSAGES, START],
      );
      // Four events per message (queued, sent, delivered, read), as callbacks would leave them.
      await manager.query(
        `INSERT INTO message_status_logs (message_id, twilio_sid, status, source, applied, received_at)
       SELECT m.id, m.twilio_sid, e.status, 'callback', true, m.created_at + e.offset_
         FROM whatsapp_messages m
        CROSS JOIN (VALUES ('queued', interval '1 second'), ('sent', interval '3 seconds'),
                           ('delivered', interval '20 seconds'), ('read', interval '10 minutes')) AS e(status, offset_)`,
      );
    }),
  );
  await dataSource.query('ANALYZE whatsapp_messages');
  await dataSource.query('ANALYZE message_status_logs');
  return ms;
}

async function main(): Promise<void> {
  const name = `wa_bench_${Date.now()}`;
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  await ensureDatabase(url.toString());
  await runMigrations({ url: url.toString(), poolSize: 2 });
  // Seeding millions of rows takes longer than the app's statement and query timeouts.
  const dataSource = await new DataSource({
    ...dataSourceOptions({ url: url.toString(), poolSize: 4 }, []),
    extra: { connectionTimeoutMillis: 10_000 },
  }).initialize();
  try {
    process.stdout.write(
      `seeding ${MESSAGES.toLocaleString()} messages and ${(4 * MESSAGES).toLocaleString()} events…\n`,
    );
    const seedMs = await seed(dataSource);
    const service = new DeliveryQueriesService(
      new MessagesRepository(dataSource),
      new MessageQueriesRepository(dataSource),
    );
    const since = new Date(END - 24 * 3600_000).toISOString();
    const until = new Date(END).toISOString();
    const baseline: number[] = [];
    const metrics: number[] = [];
    let total = 0;
    for (let run = 0; run < RUNS + 1; run += 1) {
      const b = await timed(() =>
        dataSource.query(
          `SELECT count(*) FROM whatsapp_messages WHERE direction = 'outbound' AND created_at >= $1 AND created_at < $2`,
          [since, until],
        ),
      );
      const m = await timed(async () => {
        total = (await service.metrics({ since, until })).total;
      });
      if (run > 0) {
        // the first run warms the caches
        baseline.push(b);
        metrics.push(m);
      }
    }
    const rows = [
      ['scenario', 'median ms', 'p95 ms', 'min ms'],
      [
        'baseline: count(*) over the 24 h window',
        ...Object.values(summary(baseline)).map((v) => v.toFixed(1)),
      ],
      ['delivery-metrics, last 24 h', ...Object.values(summary(metrics)).map((v) => v.toFixed(1))],
    ];
    const table = rows.map((row) => `| ${row.join(' | ')} |`).join('\n');
    const report = [
      `# delivery-metrics benchmark (${new Date().toISOString()})`,
      '',
      `${MESSAGES.toLocaleString()} messages and ${(4 * MESSAGES).toLocaleString()} events over 10 days; ` +
        `${total.toLocaleString()} messages in the last 24 h; seeded in ${(seedMs / 1000).toFixed(0)} s; ${RUNS} runs after one warm-up.`,
      '',
      '| scenario | median ms | p95 ms | min ms |',
      '|---|---|---|---|',
      ...rows.slice(1).map((row) => `| ${row.join(' | ')} |`),
      '',
    ].join('\n');
    process.stdout.write(`${table}\n`);
    writeFileSync(join(__dirname, '..', '..', 'bench', 'results', 'delivery-metrics.md'), report);
  } finally {
    await dataSource.destroy();
    if (process.env.BENCH_KEEP !== '1') await dropDatabase(url.toString());
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
