// Private PostgreSQL and Redis servers for `npm run chaos`: each on a spare port of 127.0.0.1,
// with its data in a temp dir of its own, so the chaos run can crash and restart them without
// touching the machine's shared servers (5432, 6379). Every server and temp dir this module
// started is stopped and removed by cleanupAll(), and at the latest when the process exits
// (success, failure, Ctrl-C, SIGTERM). CHAOS_KEEP_DIRS=1 (or setKeepDirsOnFailure(true)) keeps
// the temp dirs (data and logs) of a failed or interrupted run; the servers are stopped anyway.
//
// PostgreSQL refuses to run as root: as root, initdb and pg_ctl run through
// `runuser -u postgres --` and the temp dir belongs to postgres.
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  accessSync,
  appendFileSync,
  closeSync,
  constants,
  existsSync,
  openSync,
  readFileSync,
  readdirSync,
  realpathSync,
  rmSync,
} from 'node:fs';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, delimiter, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { freePort } from '../lib/processes';

/** How long a server may take to come up (or a stop to finish) before it counts as failed. */
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 30_000;
/** initdb writes a few hundred files; a busy 2-core machine gets more time for it. */
const INITDB_TIMEOUT_MS = 60_000;
/** One query or command against a private server (startTime, dbsize). */
const QUERY_TIMEOUT_MS = 10_000;

const AS_ROOT = process.getuid?.() === 0;

export interface PrivatePostgres {
  readonly port: number;
  /** postgres://postgres@127.0.0.1:<port>/postgres (trust authentication, no password). */
  readonly url: string;
  /** The temp dir: `data/` (the cluster), the Unix socket and, without `logDir`, the log. */
  readonly dir: string;
  /** The server's log (pg_ctl -l), initdb's output first. */
  readonly logFile: string;
  /** How long initdb and the first `pg_ctl start -w` took, in milliseconds. */
  readonly startup: { initdbMs: number; startMs: number };
  /** postgres://postgres@127.0.0.1:<port>/<database> */
  urlFor(database: string): string;
  /** `pg_ctl -m immediate stop` (a crash: no checkpoint), then start again and wait for connections. */
  restartImmediate(): Promise<void>;
  /** `SELECT pg_postmaster_start_time()` as text (microseconds): it changes on every restart. */
  startTime(): Promise<string>;
  /** Fast stop (immediate when the fast one fails); idempotent. The temp dir stays until cleanupAll(). */
  stop(): Promise<void>;
}

export interface PrivateRedis {
  readonly port: number;
  /** redis://127.0.0.1:<port> */
  readonly url: string;
  /** The temp dir (redis-server --dir) and, without `logDir`, the log. */
  readonly dir: string;
  /** redis-server's stdout and stderr, every (re)start appended. */
  readonly logFile: string;
  /** SHUTDOWN NOSAVE, wait for the process to exit, start a new one on the same port, wait for PING. */
  restartEmpty(): Promise<void>;
  dbsize(): Promise<number>;
  /** SIGTERM (SIGKILL after 10 s); idempotent. The temp dir stays until cleanupAll(). */
  stop(): Promise<void>;
}

export interface CleanupOptions {
  /** The run failed: keep the temp dirs when CHAOS_KEEP_DIRS=1 / setKeepDirsOnFailure(true). */
  failed?: boolean;
}

let keepDirsOnFailure = process.env.CHAOS_KEEP_DIRS === '1';

/** Keep the temp dirs (data and logs) of a failed or interrupted run; off unless CHAOS_KEEP_DIRS=1. */
export function setKeepDirsOnFailure(keep: boolean): void {
  keepDirsOnFailure = keep;
}

/** A server this module started: how to stop it, politely and from the 'exit' handler. */
interface Managed {
  name: string;
  stop(): Promise<void>;
  /** Synchronous, best effort (for process 'exit'). */
  kill(): void;
}

const servers = new Set<Managed>();
const tempDirs = new Set<string>();
/** initdb, pg_ctl, chown… still running: a cleanup ends them first (runuser passes SIGTERM on). */
const commands = new Set<ChildProcess>();
const cancelled = new WeakSet<ChildProcess>();

function cancelCommands(): void {
  for (const command of commands) {
    cancelled.add(command);
    command.kill('SIGTERM');
  }
}

/**
 * Stops every server this module started (in parallel) and removes their temp dirs, the servers'
 * logs in them included (a `logDir` outside stays). Throws after doing all it can when a server
 * would not stop or a dir would not go.
 */
export async function cleanupAll(options: CleanupOptions = {}): Promise<void> {
  const problems: string[] = [];
  cancelCommands();
  const stopping = [...servers];
  const results = await Promise.allSettled(stopping.map((server) => server.stop()));
  results.forEach((result, index) => {
    if (result.status === 'fulfilled') return;
    problems.push(`${stopping[index].name}: ${errorText(result.reason)}`);
    stopping[index].kill();
  });
  for (const server of stopping) servers.delete(server);
  if (options.failed && keepDirsOnFailure) {
    for (const dir of tempDirs) process.stderr.write(`[chaos] kept ${dir}\n`);
    tempDirs.clear();
  } else {
    for (const dir of [...tempDirs]) {
      try {
        await rm(dir, { recursive: true, force: true, maxRetries: 3 });
        tempDirs.delete(dir);
      } catch (error) {
        problems.push(`removing ${dir}: ${errorText(error)}`);
      }
    }
  }
  if (problems.length > 0) throw new Error(`cleanupAll: ${problems.join('; ')}`);
}

let handlersInstalled = false;

/** Once: synchronous cleanup on 'exit', awaited cleanup on SIGINT / SIGTERM (exit 130 / 143). */
function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.once('exit', (code) => cleanupSync(code !== 0));
  let signalled = false;
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.on(signal, () => {
      // A second signal during the cleanup: exit now; the 'exit' handler kills what is left.
      if (signalled) process.exit(code);
      signalled = true;
      process.stderr.write(`[chaos] ${signal}: stopping the private PostgreSQL and Redis\n`);
      cleanupAll({ failed: true })
        .catch((error: unknown) => process.stderr.write(`[chaos] ${errorText(error)}\n`))
        .finally(() => process.exit(code));
    });
  }
}

function cleanupSync(failed: boolean): void {
  cancelCommands();
  for (const server of servers) {
    try {
      server.kill();
    } catch {
      // Best effort: the process is going away.
    }
  }
  servers.clear();
  for (const dir of tempDirs) {
    if (failed && keepDirsOnFailure) {
      process.stderr.write(`[chaos] kept ${dir}\n`);
      continue;
    }
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      process.stderr.write(`[chaos] could not remove ${dir}\n`);
    }
  }
  tempDirs.clear();
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL
// ---------------------------------------------------------------------------------------------

export async function startPrivatePostgres(
  options: { port?: number; logDir?: string } = {},
): Promise<PrivatePostgres> {
  installExitHandlers();
  const bin = postgresBinDir();
  const pgCtl = join(bin, 'pg_ctl');
  // A given port that is taken fails before initdb, not after it.
  if (options.port !== undefined) await assertPortFree(options.port);
  const dir = await makeTempDir('chaos-pg-');
  const dataDir = join(dir, 'data');
  const logFile = join(options.logDir ?? dir, `${basename(dir)}.log`);
  await mkdir(dataDir, { mode: 0o700 });
  await chmod(dataDir, 0o700);
  closeSync(openSync(logFile, 'a'));
  if (AS_ROOT) {
    await run('chown', ['-R', 'postgres:', dir], { what: `chown -R postgres ${dir}` });
    // pg_ctl's shell opens the log as postgres (a `logDir` outside the temp dir included).
    if (options.logDir !== undefined)
      await run('chown', ['postgres:', logFile], { what: `chown postgres ${logFile}` });
    // Every directory above the temp dir and the log must let postgres through.
    for (const path of [dataDir, logFile]) {
      await run('runuser', ['-u', 'postgres', '--', 'test', '-w', path], {
        what: `the postgres user cannot write ${path} (set TMPDIR or logDir to a directory it can reach):`,
        timeoutMs: 10_000,
      });
    }
  }

  const initdbStarted = Date.now();
  try {
    const output = await run(
      ...asPostgres(join(bin, 'initdb'), [
        '-D',
        dataDir,
        '-U',
        'postgres',
        '--auth=trust',
        '-E',
        'UTF8',
        '--locale=C.UTF-8',
        '--no-sync',
        '--no-instructions',
      ]),
      { cwd: dir, timeoutMs: INITDB_TIMEOUT_MS, what: `initdb -D ${dataDir}` },
    );
    appendFileSync(logFile, output);
  } catch (error) {
    appendFileSync(logFile, errorText(error));
    throw error;
  }
  const initdbMs = Date.now() - initdbStarted;

  let port = options.port ?? (await freePort());
  let stopped = false;
  const serial = oneAtATime();
  const running = (): boolean => existsSync(join(dataDir, 'postmaster.pid'));
  const url = (database: string): string =>
    `postgres://postgres@127.0.0.1:${port}/${encodeURIComponent(database)}`;
  const pgCtlRun = (args: string[], what: string, timeoutMs = STOP_TIMEOUT_MS + 5_000) =>
    run(...asPostgres(pgCtl, ['-D', dataDir, ...args]), { cwd: dir, timeoutMs, what });

  const start = async (): Promise<void> => {
    await assertPortFree(port);
    const settings = [
      `-p ${port}`,
      `-k ${shellQuote(dir)}`,
      '-c listen_addresses=127.0.0.1',
      '-c fsync=off',
      '-c max_connections=200',
    ].join(' ');
    const seconds = START_TIMEOUT_MS / 1000;
    try {
      await pgCtlRun(
        ['-o', settings, '-l', logFile, '-w', '-t', String(seconds), 'start'],
        `pg_ctl start (port ${port})`,
        START_TIMEOUT_MS + 5_000,
      );
    } catch (error) {
      throw new Error(
        `private PostgreSQL on port ${port} did not come up; log: ${logFile}\n` +
          `${errorText(error)}\n${tail(logFile)}`,
        { cause: error },
      );
    }
    await waitForConnections(url('postgres'), Date.now() + START_TIMEOUT_MS, logFile);
  };

  const managed: Managed = {
    name: `PostgreSQL ${dataDir}`,
    stop: () => stop(),
    kill: () => {
      if (!running()) return;
      const [command, args] = asPostgres(pgCtl, ['-D', dataDir, '-m', 'immediate', 'stop']);
      spawnSync(command, args, { cwd: dir, env: childEnv(), stdio: 'ignore', timeout: 15_000 });
    },
  };
  const stopNow = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (running()) {
      try {
        await pgCtlRun(
          ['-m', 'fast', '-w', '-t', '30', 'stop'],
          `pg_ctl stop -m fast (port ${port})`,
        );
      } catch (error) {
        if (running()) {
          await pgCtlRun(
            ['-m', 'immediate', '-w', '-t', '30', 'stop'],
            `pg_ctl stop -m immediate (port ${port}) after: ${errorText(error)}`,
          );
        }
      }
    }
    servers.delete(managed);
  };
  const stop = (): Promise<void> => serial(stopNow);
  servers.add(managed);

  // Serialized too: a cleanup that comes meanwhile (Ctrl-C) stops the server once it is up.
  const startMs = await serial(async () => {
    const startedAt = Date.now();
    await startOnAFreePort({
      start,
      portGiven: options.port !== undefined,
      portLost: (error) =>
        /could not bind|Address already in use|is in use/.test(
          `${errorText(error)}\n${tail(logFile)}`,
        ),
      giveUp: () => running() || stopped,
      stopNow,
      nextPort: async () => {
        port = await freePort();
      },
    });
    return Date.now() - startedAt;
  });

  return {
    get port() {
      return port;
    },
    get url() {
      return url('postgres');
    },
    dir,
    logFile,
    startup: { initdbMs, startMs },
    urlFor: url,
    restartImmediate: () =>
      serial(async () => {
        if (stopped) throw new Error(`private PostgreSQL on port ${port} was stopped`);
        try {
          await pgCtlRun(
            ['-m', 'immediate', '-w', '-t', '30', 'stop'],
            `pg_ctl stop -m immediate (port ${port})`,
          );
        } catch (error) {
          throw new Error(`${errorText(error)}\nlog: ${logFile}\n${tail(logFile)}`, {
            cause: error,
          });
        }
        await start();
      }),
    startTime: async () => {
      const rows = await query<{ t: string }>(
        url('postgres'),
        'SELECT pg_postmaster_start_time()::text AS t',
      );
      return rows[0].t;
    },
    stop,
  };
}

/** The directory of pg_ctl on PATH (symlinks resolved), else the newest /usr/lib/postgresql/N/bin. */
/** One operation at a time per server (a restart and a stop must not interleave). */
function oneAtATime(): <T>(work: () => Promise<T>) => Promise<T> {
  let queue: Promise<unknown> = Promise.resolve();
  return <T>(work: () => Promise<T>): Promise<T> => {
    const next = queue.then(work, work);
    queue = next.catch(() => undefined);
    return next;
  };
}

/**
 * Starts a server on the port freePort() chose; when another process took that port between the
 * choice and the bind, tries another (3 attempts in all). A port the caller gave is never
 * changed; on any other failure, or once `giveUp()` says so, the server is stopped and the error
 * thrown.
 */
async function startOnAFreePort(steps: {
  start: () => Promise<void>;
  portGiven: boolean;
  portLost: (error: unknown) => boolean;
  giveUp: () => boolean;
  stopNow: () => Promise<void>;
  nextPort: () => Promise<void>;
}): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await steps.start();
      return;
    } catch (error) {
      if (steps.portGiven || !steps.portLost(error) || attempt >= 3 || steps.giveUp()) {
        await steps.stopNow().catch(() => undefined);
        throw error;
      }
      await steps.nextPort();
    }
  }
}

function postgresBinDir(): string {
  const onPath = findOnPath('pg_ctl');
  if (onPath !== undefined) {
    const bin = dirname(realpathSync(onPath));
    if (existsSync(join(bin, 'initdb'))) return bin;
  }
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((name) => /^\d+$/.test(name))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  for (const version of versions) {
    const bin = join(root, version, 'bin');
    if (existsSync(join(bin, 'pg_ctl')) && existsSync(join(bin, 'initdb'))) return bin;
  }
  throw new Error('pg_ctl and initdb are neither on PATH nor in /usr/lib/postgresql/*/bin');
}

function asPostgres(command: string, args: string[]): [string, string[]] {
  return AS_ROOT ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
}

async function waitForConnections(url: string, deadline: number, logFile: string): Promise<void> {
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      await query(url, 'SELECT 1');
      return;
    } catch (error) {
      last = error;
      await sleep(100);
    }
  }
  throw new Error(
    `private PostgreSQL at ${url} accepted no connection within ${START_TIMEOUT_MS / 1000} s ` +
      `(${errorText(last)}); log: ${logFile}\n${tail(logFile)}`,
  );
}

/** One query on a connection of its own, every step bounded. */
async function query<T>(url: string, sql: string): Promise<T[]> {
  const client = new Client({
    connectionString: url,
    connectionTimeoutMillis: QUERY_TIMEOUT_MS,
    query_timeout: QUERY_TIMEOUT_MS,
  });
  // A server crashing under an idle client emits 'error'; unhandled, it would end the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
    const result = await client.query(sql);
    return result.rows as T[];
  } finally {
    await client.end().catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------
// Redis
// ---------------------------------------------------------------------------------------------

export async function startPrivateRedis(
  options: { port?: number; logDir?: string } = {},
): Promise<PrivateRedis> {
  installExitHandlers();
  const redisServer = findOnPath('redis-server') ?? '/usr/bin/redis-server';
  const redisCli = findOnPath('redis-cli') ?? '/usr/bin/redis-cli';
  const dir = await makeTempDir('chaos-redis-');
  const logFile = join(options.logDir ?? dir, `${basename(dir)}.log`);
  let port = options.port ?? (await freePort());
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let stopped = false;
  const serial = oneAtATime();
  const alive = (): boolean =>
    child !== undefined && child.exitCode === null && child.signalCode === null;

  const start = async (): Promise<void> => {
    await assertPortFree(port);
    // The log is the child's own descriptor: it keeps logging even when this process dies.
    const log = openSync(logFile, 'a');
    let spawnError: Error | undefined;
    try {
      child = spawn(
        redisServer,
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--save',
          '',
          '--appendonly',
          'no',
          '--dir',
          dir,
          '--daemonize',
          'no',
        ],
        { cwd: dir, env: childEnv(), stdio: ['ignore', log, log] },
      );
    } finally {
      closeSync(log);
    }
    const current = child;
    // Not what keeps this process alive: a script that ends without cleanupAll() still exits,
    // and the 'exit' handler kills the server.
    current.unref();
    current.once('error', (error) => (spawnError = error));
    exited = new Promise<void>((resolve) => {
      current.once('exit', () => resolve());
      current.once('error', () => resolve());
    });
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (current.exitCode !== null || current.signalCode !== null || spawnError)
        throw new Error(
          `private Redis on port ${port} exited while starting ` +
            `(${spawnError?.message ?? `code ${current.exitCode}, signal ${current.signalCode}`}); ` +
            `log: ${logFile}\n${tail(logFile)}`,
        );
      if (await ping(port, 1_000)) return;
      await sleep(50);
    }
    current.kill('SIGKILL');
    throw new Error(
      `private Redis on port ${port} did not answer PING within ${START_TIMEOUT_MS / 1000} s; ` +
        `log: ${logFile}\n${tail(logFile)}`,
    );
  };

  /** Waits for the current process to exit; SIGKILL after `graceMs`. */
  const waitForExit = async (graceMs: number): Promise<void> => {
    if (!alive()) return;
    const current = child;
    const kill = setTimeout(() => current?.kill('SIGKILL'), graceMs);
    let bound: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        exited,
        new Promise<never>((_, reject) => {
          bound = setTimeout(
            () =>
              reject(new Error(`private Redis on port ${port} (pid ${current?.pid}) did not exit`)),
            graceMs + 5_000,
          );
        }),
      ]);
    } finally {
      clearTimeout(kill);
      clearTimeout(bound);
    }
  };

  const managed: Managed = {
    name: `Redis ${dir}`,
    stop: () => stop(),
    kill: () => {
      if (alive()) child?.kill('SIGKILL');
    },
  };
  const stopNow = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (alive()) {
      child?.kill('SIGTERM');
      await waitForExit(10_000);
    }
    servers.delete(managed);
  };
  const stop = (): Promise<void> => serial(stopNow);
  servers.add(managed);

  await serial(() =>
    startOnAFreePort({
      start,
      portGiven: options.port !== undefined,
      portLost: (error) => /Address already in use|is in use/.test(errorText(error)),
      giveUp: () => stopped,
      stopNow,
      nextPort: async () => {
        port = await freePort();
      },
    }),
  );

  return {
    get port() {
      return port;
    },
    get url() {
      return `redis://127.0.0.1:${port}`;
    },
    dir,
    logFile,
    restartEmpty: () =>
      serial(async () => {
        if (stopped) throw new Error(`private Redis on port ${port} was stopped`);
        if (alive()) {
          // redis-cli exits once the server hangs up; its status does not matter, the exit does.
          await run(redisCli, ['-h', '127.0.0.1', '-p', String(port), 'SHUTDOWN', 'NOSAVE'], {
            timeoutMs: 5_000,
            what: 'redis-cli SHUTDOWN NOSAVE',
          }).catch(() => undefined);
          await waitForExit(10_000);
        }
        await start();
      }),
    dbsize: async () => {
      const redis = new Redis({
        host: '127.0.0.1',
        port,
        lazyConnect: true,
        connectTimeout: QUERY_TIMEOUT_MS,
        commandTimeout: QUERY_TIMEOUT_MS,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      redis.on('error', () => undefined);
      try {
        await redis.connect();
        return await redis.dbsize();
      } finally {
        redis.disconnect();
      }
    },
    stop,
  };
}

/** A raw PING on a connection of its own: true on +PONG. */
function ping(port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let answer = '';
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      answer += chunk.toString();
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG'));
    });
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}

/** Refuses a port something already listens on (the machine's shared servers above all). */
function assertPortFree(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (error) =>
      reject(new Error(`port ${port} is in use on 127.0.0.1 (${errorText(error)})`)),
    );
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
  });
}

// ---------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------

async function makeTempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

/** The environment without PG* variables (PGDATA, PGPORT, … must not steer the private server). */
function childEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('PG')));
}

/** Runs a command to its end, bounded; resolves with stdout + stderr, rejects saying which. */
function run(
  command: string,
  args: string[],
  options: { what: string; cwd?: string; timeoutMs?: number },
): Promise<string> {
  const timeoutMs = options.timeoutMs ?? STOP_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const child = execFile(
      command,
      args,
      { cwd: options.cwd, env: childEnv(), timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (!error) return resolve(`${stdout}${stderr}`);
        const how = cancelled.has(child)
          ? 'was ended by the cleanup'
          : error.killed
            ? `did not finish within ${timeoutMs / 1000} s`
            : error.signal
              ? `was ended by ${error.signal}`
              : `failed with exit code ${String(error.code)}`;
        reject(new Error(`${options.what} ${how}\n${`${stdout}${stderr}`.trim()}`));
      },
    );
    commands.add(child);
    child.once('exit', () => commands.delete(child));
  });
}

/** The last lines of a log, for error messages (the temp dir holding it may be gone by then). */
function tail(file: string, lines = 15): string {
  try {
    const text = readFileSync(file, 'utf8');
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return `(${file} is unreadable)`;
  }
}

function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
