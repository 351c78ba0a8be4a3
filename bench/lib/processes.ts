import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';

/** A process started by the benchmark: its output goes to a log file, its peak RSS is tracked. */
export interface BenchProcess {
  name: string;
  child: ChildProcess;
  logFile: string;
  /** The highest VmHWM (peak resident set) seen so far, in MB. */
  peakRssMb(): number;
  /** Resolves with the first match of `pattern` in the output (stdout and stderr). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it exited. Records the peak RSS first. */
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<BenchProcess>();

/** Every process still running (for the cleanup on failure or Ctrl-C). */
export function runningProcesses(): BenchProcess[] {
  return [...running];
}

/** Peak RSS (VmHWM) of a live process in MB, or 0 when it is gone. */
export function vmHwmMb(pid: number | 'self'): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmHWM:\s+(\d+) kB/m.exec(status);
    return match ? Number(match[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

export function startProcess(
  name: string,
  entry: string,
  env: Record<string, string>,
  logFile: string,
  nodeArgs: string[] = [],
): BenchProcess {
  if (!existsSync(entry)) throw new Error(`${entry} is missing: build first`);
  const log: WriteStream = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(process.execPath, [...nodeArgs, entry], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Only the start of the output is kept in memory, for waitFor; everything goes to the log.
  let head = '';
  const waiters: { pattern: RegExp; resolve: (match: RegExpExecArray) => void }[] = [];
  const onData = (chunk: Buffer): void => {
    log.write(chunk);
    if (waiters.length === 0 && head.length > 64_000) return;
    head = (head + chunk.toString()).slice(-64_000);
    for (const waiter of [...waiters]) {
      const match = waiter.pattern.exec(head);
      if (match) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(match);
      }
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  let peak = 0;
  const sample = (): void => {
    if (child.pid !== undefined && child.exitCode === null)
      peak = Math.max(peak, vmHwmMb(child.pid));
  };
  const sampler = setInterval(sample, 500);
  sampler.unref();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => {
    clearInterval(sampler);
    running.delete(handle);
    log.end();
  });

  const handle: BenchProcess = {
    name,
    child,
    logFile,
    peakRssMb: () => {
      sample();
      return peak;
    },
    waitFor: (pattern, timeoutMs = 30_000) =>
      new Promise<RegExpExecArray>((resolve, reject) => {
        const match = pattern.exec(head);
        if (match) return resolve(match);
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(
            new Error(`${name} did not log ${pattern} within ${timeoutMs} ms; see ${logFile}`),
          );
        }, timeoutMs);
        const waiter = {
          pattern,
          resolve: (found: RegExpExecArray) => {
            clearTimeout(timer);
            resolve(found);
          },
        };
        waiters.push(waiter);
        void exited.then(() => {
          if (!waiters.includes(waiter)) return;
          clearTimeout(timer);
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`${name} exited (code ${child.exitCode}); see ${logFile}`));
        });
      }),
    stop: async (graceMs = 15_000) => {
      sample();
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
  running.add(handle);
  return handle;
}

/** A TCP port free right now on 127.0.0.1 (the processes need each other's ports up front). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** CPU seconds (user + system) a process has used so far, or 0 when it is gone. */
export function cpuSeconds(pid: number | 'self'): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and
    // 13th, in clock ticks (100 a second on Linux).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** Busy and total jiffies of the whole machine (every core), from /proc/stat. */
export function machineJiffies(): { busy: number; total: number } {
  const [, ...values] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const numbers = values.slice(0, 8).map(Number);
  const total = numbers.reduce((sum, value) => sum + value, 0);
  const idle = numbers[3] + numbers[4];
  return { busy: total - idle, total };
}

/**
 * Runs `work` and reports how busy each process was meanwhile (percent of one core) and the
 * machine as a whole (percent of all its cores).
 */
export async function withCpu<T>(
  processes: Record<string, number | 'self'>,
  work: () => Promise<T>,
): Promise<{ result: T; cpu: Record<string, number> }> {
  const before = Object.fromEntries(
    Object.entries(processes).map(([name, pid]) => [name, cpuSeconds(pid)]),
  );
  const machineBefore = machineJiffies();
  const started = Date.now();
  const result = await work();
  const seconds = (Date.now() - started) / 1000;
  const cpu: Record<string, number> = {};
  for (const [name, pid] of Object.entries(processes)) {
    cpu[name] = Math.round((100 * (cpuSeconds(pid) - before[name])) / seconds);
  }
  const machineAfter = machineJiffies();
  cpu.machine = Math.round(
    (100 * (machineAfter.busy - machineBefore.busy)) /
      Math.max(1, machineAfter.total - machineBefore.total),
  );
  return { result, cpu };
}
