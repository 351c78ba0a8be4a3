// A client's event receiver for the endToEndEvents scenario, in a process of its own: answers
// every POST 204 at once and counts them (all, and distinct webhook-ids); GET /count reports.
// It verifies nothing: the signatures are the tests' business, the bench measures throughput.
import { createServer } from 'node:http';

const port = Number(process.env.RECEIVER_PORT ?? 0);
let received = 0;
const ids = new Set<string>();

const server = createServer((request, response) => {
  if (request.method === 'GET') {
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ received, unique: ids.size }));
    return;
  }
  request.resume();
  request.on('end', () => {
    received += 1;
    const id = request.headers['webhook-id'];
    if (typeof id === 'string') ids.add(id);
    response.statusCode = 204;
    response.end();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1', () => {
  console.log(`event receiver listening on ${port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
