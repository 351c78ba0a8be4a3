import { connect, createServer, type Socket } from 'node:net';

// A round-robin TCP balancer in a process of its own, standing in for a Kubernetes Service in
// front of several api pods: each new connection goes to the next target (BALANCER_TARGETS,
// comma-separated ports on 127.0.0.1). Bench only.

const port = Number(process.env.PORT ?? 0);
const targets = (process.env.BALANCER_TARGETS ?? '').split(',').map(Number).filter(Boolean);
if (targets.length === 0) throw new Error('BALANCER_TARGETS is empty');
let next = 0;

const server = createServer((client: Socket) => {
  const target = targets[next++ % targets.length];
  const upstream = connect(target, '127.0.0.1');
  client.setNoDelay(true);
  upstream.setNoDelay(true);
  client.pipe(upstream).pipe(client);
  const close = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', close);
  upstream.on('error', close);
  client.on('close', close);
  upstream.on('close', close);
});

server.listen(port, '127.0.0.1', () => {
  const address = server.address();
  const bound = typeof address === 'object' && address !== null ? address.port : port;
  process.stdout.write(`balancer listening on ${bound} → ${targets.join(', ')}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
