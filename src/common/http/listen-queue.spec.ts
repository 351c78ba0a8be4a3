import type { HttpAdapterHost } from '@nestjs/core';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { Worker } from 'node:worker_threads';
import {
  acceptWaitMs,
  LISTEN_QUEUE_MIN,
  ListenQueue,
  listenQueueIn,
  readListenQueue,
} from './listen-queue';

// Lines as Linux writes them (trailing columns cut): a listener on 0.0.0.0:5000 (0x1388) with 7
// connections waiting to be accepted, one on 127.0.0.1:6379, an established connection to 5000.
const PROC_NET_TCP = [
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
  '   0: 00000000:1388 00000000:0000 0A 00000000:00000007 00:00000000 00000000     0        0 1 1',
  '   1: 0100007F:18EB 00000000:0000 0A 00000000:00000000 00:00000000 00000000   107        0 2 1',
  '   2: 0100007F:1388 0100007F:D2F0 01 00000000:00000323 00:00000000 00000000     0        0 3 1',
].join('\n');
const PROC_NET_TCP6 =
  '   0: 00000000000000000000000000000000:1388 00000000000000000000000000000000:0000 0A 00000000:00000020 00:00000000 00000000     0        0 4 1';

describe('listenQueueIn', () => {
  it('should read the accept queue of the LISTEN line on the port, not a connection to it', () => {
    expect(listenQueueIn(PROC_NET_TCP, 5000)).toBe(7);
    expect(listenQueueIn(PROC_NET_TCP, 6379)).toBe(0);
    expect(listenQueueIn(PROC_NET_TCP6, 5000)).toBe(32);
    expect(listenQueueIn(PROC_NET_TCP, 5001)).toBeNull();
    expect(listenQueueIn('', 5000)).toBeNull();
  });
});

describe('acceptWaitMs', () => {
  it('should be the queue over the accept rate once it held on two samples, else nothing', () => {
    const min = LISTEN_QUEUE_MIN;
    expect(acceptWaitMs(min - 1, 400, 0)).toBe(0);
    expect(acceptWaitMs(400, min - 1, 0)).toBe(0);
    expect(acceptWaitMs(400, 400, 40)).toBe(10_000);
    expect(acceptWaitMs(64, 64, 0)).toBe(64_000);
  });
});

// Real sockets (Linux; CI runs there): a server in a worker thread that listens and then blocks,
// so it accepts nothing; the connections made to it wait in the kernel's accept queue.
const linux = existsSync('/proc/net/tcp');
(linux ? describe : describe.skip)('the accept queue of a real listener', () => {
  const CONNECTIONS = 100;
  let worker: Worker;
  let release: Int32Array;
  let port: number;
  const clients: Socket[] = [];

  beforeAll(async () => {
    release = new Int32Array(new SharedArrayBuffer(4));
    worker = new Worker(
      `const { createServer } = require('node:net');
       const { parentPort, workerData } = require('node:worker_threads');
       const server = createServer();
       server.listen(0, '127.0.0.1', 511, () => {
         parentPort.postMessage(server.address().port);
         Atomics.wait(workerData.release, 0, 0);
       });`,
      { eval: true, workerData: { release } },
    );
    port = await new Promise<number>((resolve) => worker.once('message', resolve));
    await Promise.all(
      Array.from({ length: CONNECTIONS }, () => {
        const client = connect(port, '127.0.0.1');
        client.on('error', () => undefined);
        clients.push(client);
        // The kernel completes the handshake; the server never accepts.
        return new Promise((resolve) => client.once('connect', resolve));
      }),
    );
  });

  afterAll(async () => {
    clients.forEach((client) => client.destroy());
    Atomics.store(release, 0, 1);
    Atomics.notify(release, 0);
    await worker.terminate();
  });

  it('should read exactly the connections waiting', async () => {
    expect(await readListenQueue(port)).toBe(CONNECTIONS);
  });

  it('should report them as the queue over the accepts counted, from the second sample', async () => {
    // A stand-in for the api's server: the worker's port, and accepts this test says happened.
    const server = Object.assign(new EventEmitter(), { address: () => ({ port }) });
    const host = { httpAdapter: { getHttpServer: () => server } } as unknown as HttpAdapterHost;
    const probe = new ListenQueue(host);
    let now = 1_000_000;
    probe.now = () => now;
    await probe.sample();
    expect(probe.waitMs()).toBe(0); // one sample is not a backlog yet
    for (let i = 0; i < 50; i += 1) server.emit('connection');
    now += 1_000;
    await probe.sample();
    expect(probe.waitMs()).toBe((CONNECTIONS / 50) * 1_000);
    now += 1_001; // no sample since: stale
    expect(probe.waitMs()).toBe(0);
    probe.stop();
    expect(server.listenerCount('connection')).toBe(0);
  });
});
