import { Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { readFile } from 'node:fs/promises';
import type { Server } from 'node:net';

/** Fewer connections than this waiting to be accepted is the ordinary jitter of a busy loop. */
export const LISTEN_QUEUE_MIN = 32;

/**
 * How many connections wait in the accept queue of the socket listening on `port`, from the text
 * of Linux's /proc/net/tcp or tcp6 (a LISTEN line's rx_queue is its accept queue); null when no
 * such line is there.
 */
export function listenQueueIn(text: string, port: number): number | null {
  const portHex = port.toString(16).toUpperCase().padStart(4, '0');
  // sl local_address rem_address st tx_queue:rx_queue …; st 0A is LISTEN. One pass of a regex,
  // not a split per line: the file lists every connection, thousands of lines under load.
  const line = new RegExp(`:${portHex} [0-9A-F]+:0000 0A [0-9A-F]+:([0-9A-F]+) `, 'g');
  let found: number | null = null;
  for (const match of text.matchAll(line)) {
    found = (found ?? 0) + Number.parseInt(match[1], 16);
  }
  return found;
}

/**
 * How long the newest connection in the accept queue will wait, in ms: the queue over the rate
 * at which this process accepted connections lately. 0 below LISTEN_QUEUE_MIN.
 */
export function acceptWaitMs(queued: number, acceptedPerSecond: number): number {
  if (queued < LISTEN_QUEUE_MIN) return 0;
  return (queued / Math.max(acceptedPerSecond, 1)) * 1000;
}

/**
 * The accept queue of this process's HTTP server, as a wait. Node (libuv since 1.45) accepts
 * one connection per event-loop turn: under load, when a sender opens hundreds of connections
 * at once, they wait in the kernel's queue for seconds while the loop serves the connections it
 * has — requests no timer, batch or histogram of ours can see. Linux only (elsewhere: 0).
 */
@Injectable()
export class ListenQueue {
  private server: Server | undefined;
  private accepted = 0;
  private since = Date.now();
  private readonly onConnection = () => {
    this.accepted += 1;
  };

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  /** The wait now (ms); starts counting accepted connections on the first call. */
  async waitMs(): Promise<number> {
    const server = this.watch();
    const address = server?.address();
    const now = Date.now();
    const perSecond = (this.accepted * 1000) / Math.max(now - this.since, 1);
    this.accepted = 0;
    this.since = now;
    if (!address || typeof address === 'string') return 0;
    const queued = await this.queued(address.port);
    return acceptWaitMs(queued, perSecond);
  }

  stop(): void {
    this.server?.off('connection', this.onConnection);
    this.server = undefined;
  }

  private watch(): Server | undefined {
    if (this.server) return this.server;
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (!server || typeof server.on !== 'function') return undefined;
    server.on('connection', this.onConnection);
    this.server = server;
    return server;
  }

  private async queued(port: number): Promise<number> {
    let total = 0;
    for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
      const text = await readFile(file, 'utf8').catch(() => '');
      total += listenQueueIn(text, port) ?? 0;
    }
    return total;
  }
}
