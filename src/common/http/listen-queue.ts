import { Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { open } from 'node:fs/promises';
import type { Server } from 'node:net';

/** Fewer connections than this waiting to be accepted is the ordinary jitter of a busy loop. */
export const LISTEN_QUEUE_MIN = 32;
/** The accept rate is the accepts counted over about this long. */
const RATE_WINDOW_MS = 2_000;
/** A wait older than this is not reported (the probe stopped, or its reads are stuck). */
const FRESH_MS = 1_000;
/** Bytes read at a time from /proc/net/tcp: its LISTEN lines come first, in the first read. */
const CHUNK_BYTES = 16_384;

/** A /proc/net/tcp line's state column: `sl local rem st …`. */
const STATE = /^\s*\d+: [0-9A-F]+:[0-9A-F]{4} [0-9A-F]+:[0-9A-F]{4} ([0-9A-F]{2}) /gm;

/**
 * How many connections wait in the accept queue of the socket listening on `port`, from the text
 * of Linux's /proc/net/tcp or tcp6 (a LISTEN line's rx_queue is its accept queue); null when no
 * such line is there. Several listeners on the port (0.0.0.0 and ::) are summed.
 */
export function listenQueueIn(text: string, port: number): number | null {
  const portHex = port.toString(16).toUpperCase().padStart(4, '0');
  // sl local_address rem_address st tx_queue:rx_queue …; st 0A is LISTEN, its remote is :0000.
  const line = new RegExp(`:${portHex} [0-9A-F]+:0000 0A [0-9A-F]+:([0-9A-F]+) `, 'g');
  let found: number | null = null;
  for (const match of text.matchAll(line)) {
    found = (found ?? 0) + Number.parseInt(match[1], 16);
  }
  return found;
}

/** Whether `text` has reached a line that is not LISTEN: the listeners are all above it. */
function pastListeners(text: string): boolean {
  for (const match of text.matchAll(STATE)) if (match[1] !== '0A') return true;
  return false;
}

/**
 * The accept queue on `port` from /proc/net/tcp and tcp6, reading each only as far as its LISTEN
 * lines (the kernel lists listeners first; the rest, every connection, can be megabytes). 0
 * where the files cannot be read (not Linux).
 */
export async function readListenQueue(port: number): Promise<number> {
  let total = 0;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const handle = await open(file, 'r').catch(() => null);
    if (!handle) continue;
    try {
      const buffer = Buffer.alloc(CHUNK_BYTES);
      let text = '';
      for (;;) {
        const { bytesRead } = await handle.read(buffer, 0, CHUNK_BYTES, null);
        if (bytesRead === 0) break;
        text += buffer.toString('latin1', 0, bytesRead);
        if (pastListeners(text)) break;
      }
      total += listenQueueIn(text, port) ?? 0;
    } catch {
      // A file that cannot be read counts as no queue.
    } finally {
      await handle.close().catch(() => undefined);
    }
  }
  return total;
}

/**
 * How long the newest connection in the accept queue will wait, in ms: the queue over the rate at
 * which this process accepted connections lately. 0 unless the queue was at least
 * LISTEN_QUEUE_MIN on this sample and the one before (a burst an idle loop takes at once is not a
 * backlog).
 */
export function acceptWaitMs(
  queued: number,
  previousQueued: number,
  acceptedPerSecond: number,
): number {
  if (queued < LISTEN_QUEUE_MIN || previousQueued < LISTEN_QUEUE_MIN) return 0;
  return (queued / Math.max(acceptedPerSecond, 1)) * 1000;
}

/**
 * The accept queue of this process's HTTP server, as a wait. Node (libuv since 1.45) accepts
 * one connection per event-loop turn: under load, when a sender opens hundreds of connections
 * at once, they wait in the kernel's queue for seconds while the loop serves the connections it
 * has — requests no timer, batch or histogram of ours can see. `sample()` reads it in the
 * background, one read at a time; `waitMs()` answers at once with the last fresh sample. Linux
 * only (elsewhere: 0). Behind a proxy that pools its connections to the pod, the burst waits in
 * the proxy instead, and this sees nothing.
 */
@Injectable()
export class ListenQueue {
  /** The clock (replaced in tests). */
  now: () => number = () => Date.now();
  private server: Server | undefined;
  private stopped = false;
  private sampling = false;
  private accepts: { at: number; count: number }[] = [];
  private accepted = 0;
  private previousQueued = 0;
  private last = { waitMs: 0, at: 0 };
  private readonly onConnection = () => {
    this.accepted += 1;
  };

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  /** The last sample's wait (ms), or 0 when it is not fresh. */
  waitMs(): number {
    return this.now() - this.last.at <= FRESH_MS ? this.last.waitMs : 0;
  }

  /** Reads the queue once (a read still running: this one is skipped). */
  async sample(): Promise<void> {
    if (this.sampling || this.stopped) return;
    this.sampling = true;
    try {
      const server = this.watch();
      const address = server?.address();
      const now = this.now();
      this.accepts.push({ at: now, count: this.accepted });
      this.accepted = 0;
      while (this.accepts.length > 1 && now - this.accepts[0].at > RATE_WINDOW_MS) {
        this.accepts.shift();
      }
      if (!address || typeof address === 'string') return;
      const queued = await readListenQueue(address.port);
      // The accepts since the window's first sample, over the time since then.
      const span = now - this.accepts[0].at;
      const count = this.accepts.slice(1).reduce((sum, entry) => sum + entry.count, 0);
      const perSecond = span > 0 ? (count * 1000) / span : 0;
      this.last = { waitMs: acceptWaitMs(queued, this.previousQueued, perSecond), at: now };
      this.previousQueued = queued;
    } finally {
      this.sampling = false;
    }
  }

  stop(): void {
    this.stopped = true;
    this.server?.off('connection', this.onConnection);
    this.server = undefined;
  }

  private watch(): Server | undefined {
    if (this.server || this.stopped) return this.server;
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (!server || typeof server.on !== 'function') return undefined;
    server.on('connection', this.onConnection);
    this.server = server;
    return server;
  }
}
