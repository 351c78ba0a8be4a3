import type { HttpAdapterHost } from '@nestjs/core';
import { existsSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { acceptWaitMs, LISTEN_QUEUE_MIN, ListenQueue, listenQueueIn } from './listen-queue';

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
  it('should be the queue over the accept rate, and nothing for a short queue', () => {
    expect(acceptWaitMs(LISTEN_QUEUE_MIN - 1, 0)).toBe(0);
    expect(acceptWaitMs(400, 40)).toBe(10_000);
    expect(acceptWaitMs(64, 0)).toBe(64_000);
  });
});

// Real sockets: connections made while this process's loop is busy wait in the kernel's accept
// queue, which the probe reads from /proc (Linux; CI runs there).
const linux = existsSync('/proc/net/tcp');
(linux ? describe : describe.skip)('ListenQueue on a real server', () => {
  let server: Server;
  const clients: Socket[] = [];

  afterEach(async () => {
    clients.splice(0).forEach((client) => client.destroy());
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('should see connections waiting to be accepted as a wait of seconds', async () => {
    server = createServer((socket) => socket.on('error', () => undefined));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', 511, resolve));
    const host = { httpAdapter: { getHttpServer: () => server } } as unknown as HttpAdapterHost;
    const probe = new ListenQueue(host);
    expect(await probe.waitMs()).toBe(0);
    const address = server.address();
    if (!address || typeof address === 'string') throw new Error('not listening');
    // connect() is issued at once; the kernel completes each handshake while this loop is busy.
    for (let i = 0; i < 300; i += 1) {
      const client = connect(address.port, '127.0.0.1');
      client.on('error', () => undefined);
      clients.push(client);
    }
    const busyUntil = Date.now() + 200;
    while (Date.now() < busyUntil) {
      // the loop accepts nothing meanwhile
    }
    expect(await probe.waitMs()).toBeGreaterThan(1_000);
    probe.stop();
  });
});
