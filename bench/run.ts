// npm run bench — HTTP throughput of the production build beside a bare Fastify baseline, in a
// database of its own, against the Twilio simulator with no callback delay. Every scenario, the
// processes it starts and what differs from a real production setup: bench/README.md.
// A benchmark, never a test: nothing here asserts a number.
//
// This file sets the run up (database, simulator, the api and its sender), runs the selected
// scenarios in order (one module each under scenarios/), writes the results and tears down.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, release, type } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { dropDatabase, ensureDatabase, runMigrations } from '../src/database/database-setup';
import { senderToken } from './lib/api-client';
import { peakRss, startApp, stopAndRecord } from './lib/apps';
import type { BenchContext, Ports } from './lib/context';
import { log } from './lib/log';
import { freePort, runningProcesses } from './lib/processes';
import { cleanRedis } from './lib/redis';
import { markdown, table, type BenchResults, type Scenarios } from './lib/report';
import {
  CONNECTIONS,
  DURATION,
  E2E_MESSAGES,
  dbName,
  dbUrl,
  KEEP,
  LOGS,
  redisPrefix,
  RESULTS,
  started,
  stamp,
  STATUS_MESSAGES,
  wanted,
} from './lib/settings';
import { startSimulator } from './lib/simulator';
import { runBaseline, startBaselineServer } from './scenarios/baseline';
import { runEndToEndEvents } from './scenarios/end-to-end-events';
import { runEndToEnd, unfinished } from './scenarios/end-to-end';
import { runMemory } from './scenarios/memory';
import { MPS_MESSAGES, runMps } from './scenarios/mps';
import { runScaleOut } from './scenarios/scale-out';
import { runSend, SEND_REFERENCE } from './scenarios/send';
import { runStatusCallbacks } from './scenarios/status-callbacks';

let cleaning: Promise<void> | undefined;
/** Stops every process still running and drops the run's database and Redis keys (once). */
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await Promise.all(runningProcesses().map((child) => stopAndRecord(child)));
    if (!KEEP) {
      await dropDatabase(dbUrl).catch((error: unknown) =>
        log(`could not drop ${dbName}: ${String(error)}`),
      );
      await cleanRedis([redisPrefix]).catch((error: unknown) =>
        log(`could not clean Redis: ${String(error)}`),
      );
    }
  })();
  return cleaning;
}

/** Every scenario BENCH_SCENARIOS selects, in order; the baseline and memory always. */
async function runScenarios(db: Client, ports: Ports): Promise<Scenarios> {
  const scenarios: Scenarios = {};
  const [simulator, baselineServer] = await Promise.all([
    startSimulator(ports.simulator, ports.api),
    startBaselineServer(ports.baseline),
  ]);
  scenarios.baseline = await runBaseline(baselineServer, ports.baseline);

  const api = await startApp('api', 'api', ports.api, ports.simulator, redisPrefix);
  const context: BenchContext = {
    db,
    simulator,
    ports,
    token: await senderToken(ports.api),
    baselineRps: scenarios.baseline.rps,
  };
  // Every send of the run goes to a recipient of its own: the scenarios take turns on the range.
  let nextSend = 0;
  if (wanted('statusCallbacks')) scenarios.statusCallbacks = await runStatusCallbacks(context, api);
  if (wanted('send')) scenarios.send = await runSend(context, api, () => nextSend++);
  await stopAndRecord(api);
  // The send scenario's messages have no worker; they must not compete with endToEnd's.
  await db.query('DELETE FROM whatsapp_messages WHERE reference = $1', [SEND_REFERENCE]);

  if (wanted('endToEnd')) {
    const { endToEnd, deliveryMetrics } = await runEndToEnd(context, nextSend + 1);
    scenarios.endToEnd = endToEnd;
    scenarios.deliveryMetrics = deliveryMetrics;
  }
  let firstIndex = nextSend + E2E_MESSAGES + 1;
  if (wanted('endToEndEvents')) {
    scenarios.endToEndEvents = await runEndToEndEvents(context, firstIndex);
    firstIndex += E2E_MESSAGES;
  }
  if (wanted('mps')) {
    scenarios.mps = await runMps(context, firstIndex);
    firstIndex += MPS_MESSAGES;
  }
  if (wanted('scaleOut')) scenarios.scaleOut = await runScaleOut(context, firstIndex);

  await stopAndRecord(simulator);
  scenarios.memory = runMemory();
  return scenarios;
}

async function main(): Promise<void> {
  mkdirSync(LOGS, { recursive: true });
  const [simulatorPort, baselinePort, apiPort, workerPort] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const ports: Ports = {
    simulator: simulatorPort,
    baseline: baselinePort,
    api: apiPort,
    worker: workerPort,
  };
  log(`database ${dbName}, Redis prefix ${redisPrefix}, logs in bench/results/logs/${stamp}-*`);
  await ensureDatabase(dbUrl);
  await runMigrations({ url: dbUrl, poolSize: 2 });
  const db = new Client({ connectionString: dbUrl });
  // On Ctrl-C the cleanup drops the database under this connection: not an error worth a crash.
  db.on('error', (error) => log(`database connection: ${error.message}`));
  await db.connect();
  let scenarios: Scenarios;
  try {
    scenarios = await runScenarios(db, ports);
  } finally {
    await db.end();
    await cleanup();
  }

  const cpuList = cpus();
  const results: BenchResults = {
    date: started.toISOString(),
    settings: {
      durationSeconds: DURATION,
      connections: CONNECTIONS,
      statusMessages: STATUS_MESSAGES,
      e2eMessages: E2E_MESSAGES,
    },
    machine: {
      cpus: cpuList.length,
      model: cpuList[0]?.model ?? 'unknown',
      node: process.version,
      os: `${type()} ${release()}`,
    },
    scenarios,
  };
  const printed = table(scenarios);
  process.stdout.write(`\n${printed}\n\n`);
  writeFileSync(join(RESULTS, `${stamp}.json`), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(RESULTS, `${stamp}.md`), markdown(results, printed, peakRss));
  log(`wrote bench/results/${stamp}.json and .md`);
  if (unfinished.length > 0) {
    log(`not finished: ${unfinished.join(', ')} (see above); exit 1`);
    process.exitCode = 1;
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping every process started`);
    void cleanup().finally(() => process.exit(130));
  });
}
process.once('exit', () => {
  for (const child of runningProcesses()) child.child.kill('SIGKILL');
});

main().catch(async (error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  await cleanup();
  process.exit(1);
});
