// npm run bench:sim-soak — the simulator's memory in a long run. Three simulator processes side
// by side, each taking BENCH_SOAK_RATE creates a second (100) for BENCH_SOAK_MINUTES (8), their
// callbacks answered 204 by a small receiver: the first retires messages BENCH_SOAK_RETAIN_S (60)
// after their life ended (SIM_RETAIN_S) and forgets their truth BENCH_SOAK_TRUTH_RETAIN_S (120)
// later (SIM_TRUTH_RETAIN_S), as the defaults do an hour and two later; the second retires them
// but keeps their truth (SIM_TRUTH_RETAIN_S=0); the third keeps every message (SIM_RETAIN_S=0,
// the simulator before retiring existed). Their resident memory and their heap after a full
// collection (what is kept, not garbage) every 30 s, side by side. Every request is bounded
// (5 s); what failed is counted and printed; the run always ends.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, startProcess, type BenchProcess } from './lib/processes';
import { DIST, FROM, LOGS, PUBLIC_BASE_URL, secrets, stamp } from './lib/settings';

const RATE = Number(process.env.BENCH_SOAK_RATE ?? 100);
const MINUTES = Number(process.env.BENCH_SOAK_MINUTES ?? 8);
const RETAIN_S = Number(process.env.BENCH_SOAK_RETAIN_S ?? 60);
const TRUTH_RETAIN_S = Number(process.env.BENCH_SOAK_TRUTH_RETAIN_S ?? 120);
const SAMPLE_MS = 30_000;

function rssMb(pid: number | undefined): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Math.round(Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) / 1024);
  } catch {
    return 0;
  }
}

async function startSim(
  name: string,
  retainS: number,
  truthRetainS: number,
  deliverTo: string,
): Promise<{ process: BenchProcess; port: number }> {
  const port = await freePort();
  const sim = startProcess(
    name,
    join(DIST, 'src', 'simulator', 'main.js'),
    {
      NODE_ENV: 'development',
      SIMULATOR_PORT: String(port),
      SIMULATOR_DELIVER_TO: deliverTo,
      PUBLIC_BASE_URL,
      TWILIO_ACCOUNT_SID: secrets.accountSid,
      TWILIO_AUTH_TOKEN: secrets.authToken,
      TWILIO_WHATSAPP_FROM: FROM,
      SIM_RETAIN_S: String(retainS),
      SIM_TRUTH_RETAIN_S: String(truthRetainS),
      LOG_LEVEL: 'warn',
    },
    join(LOGS, `${stamp}-${name}.log`),
    // /__sim/stats then reports the heap after a full collection: what is kept, not garbage.
    ['--expose-gc'],
  );
  await sim.waitFor(/Twilio simulator listening/, 30_000).catch(() => undefined);
  for (let i = 0; i < 100; i += 1) {
    const up = await fetch(`http://127.0.0.1:${port}/__sim/stats`).then(
      (response) => response.ok,
      () => false,
    );
    if (up) break;
    await sleep(100);
  }
  return { process: sim, port };
}

async function main(): Promise<void> {
  // A fresh clone has no logs folder (it is gitignored).
  mkdirSync(LOGS, { recursive: true });
  const receiver = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.statusCode = 204;
      response.end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const address = receiver.address();
  const deliverTo = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const sims = [
    {
      label: `retainS=${RETAIN_S} truthRetainS=${TRUTH_RETAIN_S}`,
      ...(await startSim('sim-forget', RETAIN_S, TRUTH_RETAIN_S, deliverTo)),
    },
    {
      label: `retainS=${RETAIN_S} truthRetainS=0 (keeps the truth)`,
      ...(await startSim('sim-retire', RETAIN_S, 0, deliverTo)),
    },
    { label: 'retainS=0 (keeps all)', ...(await startSim('sim-keep', 0, 0, deliverTo)) },
  ];
  const auth = `Basic ${Buffer.from(`${secrets.accountSid}:${secrets.authToken}`).toString('base64')}`;
  let created = 0;
  let failed = 0;
  const create = async (port: number): Promise<void> => {
    const body = new URLSearchParams({
      To: 'whatsapp:+14155550100',
      From: FROM,
      Body: 'soak',
      StatusCallback: `${PUBLIC_BASE_URL}/api/v1/whatsapp/status?mid=${randomUUID()}#rc=3&rp=5xx,rt,ct`,
    });
    try {
      const response = await fetch(
        `http://127.0.0.1:${port}/2010-04-01/Accounts/${secrets.accountSid}/Messages.json`,
        {
          method: 'POST',
          headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
          body,
          signal: AbortSignal.timeout(5_000),
        },
      );
      await response.arrayBuffer();
      if (response.status === 201) created += 1;
      else failed += 1;
    } catch {
      failed += 1;
    }
  };
  const rows: string[] = [];
  // The heap kept, and how many messages the truth holds.
  const heapMb = (port: number) =>
    fetch(`http://127.0.0.1:${port}/__sim/stats`, { signal: AbortSignal.timeout(5_000) })
      .then(
        (response) =>
          response.json() as Promise<{ memory: { heapUsedMb: number }; messages: number }>,
      )
      .then((stats) => `${stats.memory.heapUsedMb} / ${stats.messages.toLocaleString('en-US')}`)
      .catch(() => '? / ?');
  const sample = async (seconds: number) => {
    const heaps = await Promise.all(sims.map((sim) => heapMb(sim.port)));
    rows.push(
      `| ${seconds} | ${sims.map((sim, index) => `${rssMb(sim.process.child.pid)} / ${heaps[index]}`).join(' | ')} | ${created.toLocaleString('en-US')} |`,
    );
  };
  const started = Date.now();
  await sample(0);
  let nextSample = SAMPLE_MS;
  const tickMs = 100;
  const perTick = RATE / (1000 / tickMs);
  let due = 0;
  while (Date.now() - started < MINUTES * 60_000) {
    due += perTick;
    const burst = Math.floor(due);
    due -= burst;
    await Promise.all(
      sims.flatMap((sim) =>
        Array.from({ length: burst }, () => create(sim.process.child.pid ? sim.port : 0)),
      ),
    );
    const elapsed = Date.now() - started;
    if (elapsed >= nextSample) {
      await sample(Math.round(elapsed / 1000));
      nextSample += SAMPLE_MS;
    }
    const wait = tickMs - ((Date.now() - started) % tickMs);
    await sleep(wait);
  }
  await sleep(2_000);
  await sample(Math.round((Date.now() - started) / 1000));
  const stats = await Promise.all(
    sims.map((sim) =>
      fetch(`http://127.0.0.1:${sim.port}/__sim/stats`, { signal: AbortSignal.timeout(5_000) })
        .then(
          (response) =>
            response.json() as Promise<{ messages: number; callbacks: { failed: object } }>,
        )
        .catch((error: Error) => ({ unavailable: error.message })),
    ),
  );
  await Promise.all(sims.map((sim) => sim.process.stop()));
  receiver.close();
  process.stdout.write(
    [
      `simulator soak: ${RATE} creates/s to each of ${sims.length} simulators for ${MINUTES} min`,
      '',
      `| s | ${sims.map((sim) => `${sim.label}: RSS / heap kept, MB / truth`).join(' | ')} | creates (all) |`,
      `|---|${sims.map(() => '---').join('|')}|---|`,
      ...rows,
      '',
      `failed creates: ${failed}; simulators' stats: ${JSON.stringify(stats)}`,
      '',
    ].join('\n'),
  );
  if (failed > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
