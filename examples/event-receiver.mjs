// A receiver for whatsapp-backend's event webhooks, to copy and adapt (docs/events.md explains
// each step). It needs Node.js 20+ and one package:
//
//   npm install standardwebhooks
//   WEBHOOK_SECRET=whsec_… PORT=3000 node event-receiver.mjs
//
// WEBHOOK_SECRET is the subscription's secret. During a rotation set WEBHOOK_SECRET to the new one
// and WEBHOOK_SECRET_PREVIOUS to the old one; drop the old one once the 24-hour overlap is over.
// In production it runs behind your HTTPS endpoint on port 443: that is the only kind of URL the
// service delivers to.
import { createServer } from 'node:http';
import { Webhook } from 'standardwebhooks';

const PORT = Number(process.env.PORT ?? 3000);
/** Our events are a few KB; a body much larger than that is not one of ours. */
const MAX_BODY_BYTES = 1024 * 1024;

const secrets = [process.env.WEBHOOK_SECRET, process.env.WEBHOOK_SECRET_PREVIOUS].filter(Boolean);
if (secrets.length === 0) {
  console.error('Set WEBHOOK_SECRET to the subscription secret (whsec_…).');
  process.exit(1);
}
const verifiers = secrets.map((secret) => new Webhook(secret));

// The webhook-ids already processed. In memory for the example only: production needs a durable
// store (a table keyed by the id, written in the same transaction as the event's effect), since a
// repeat can come after this process restarts, or days later from a replay.
const processed = new Set();

// The last `sequence` applied per message, for message.status (durable in production too).
const lastSequence = new Map();

/**
 * The event if the signature matches one of our secrets and the timestamp is within 5 minutes of
 * our clock (the library checks both), else null. `rawBody` is the bytes as received.
 */
function verify(rawBody, headers) {
  for (const webhook of verifiers) {
    try {
      return webhook.verify(rawBody, headers);
    } catch {
      // Not signed with this secret, or too old or too new: try the next secret.
    }
  }
  return null;
}

/** Applies one verified event; throws to have it delivered again later. */
function handle(event) {
  switch (event.type) {
    case 'message.status': {
      const { messageId, sequence, status, reference } = event.data;
      const last = lastSequence.get(messageId) ?? 0;
      // Already applied (a replay or a resend repeats events): nothing to do.
      if (sequence <= last) return;
      // Normally sequence === last + 1. A gap means events were missed (one failed for good, or
      // the subscription started after the message's first events): `status` is still the
      // message's status after this change, so apply it, and read the message's history
      // (GET /api/v1/whatsapp/delivery-status/:id) if you need the steps in between.
      if (last > 0 && sequence > last + 1) {
        console.warn(`message ${messageId}: events ${last + 1}..${sequence - 1} missed`);
      }
      lastSequence.set(messageId, sequence);
      console.log(`message ${messageId} (${reference ?? 'no reference'}) is ${status}`);
      return;
    }
    case 'message.inbound':
      console.log(`message ${event.data.id} from ${event.data.from}: ${event.data.body ?? ''}`);
      return;
    case 'ping':
      console.log(`ping for subscription ${event.data.subscriptionId}`);
      return;
    default:
      // A type this receiver does not know: acknowledge it, or it is retried for over a day.
      return;
  }
}

function answer(response, status) {
  response.writeHead(status).end();
}

const server = createServer((request, response) => {
  if (request.method !== 'POST') {
    response.writeHead(405, { allow: 'POST' }).end();
    return;
  }
  const chunks = [];
  let size = 0;
  request.on('data', (chunk) => {
    size += chunk.length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
  });
  request.on('error', () => response.destroy());
  request.on('end', () => {
    if (size > MAX_BODY_BYTES) return answer(response, 413);
    // Verify the bytes as received: parsing and re-serialising the JSON would change them.
    const event = verify(Buffer.concat(chunks), request.headers);
    if (event === null) return answer(response, 401);
    // The same on every retry and replay of an event.
    const id = request.headers['webhook-id'];
    if (!processed.has(id)) {
      try {
        handle(event);
      } catch (error) {
        console.error(`${id} not applied: ${error.message}`);
        return answer(response, 500); // retried on the service's schedule
      }
      processed.add(id);
    }
    // Answer fast: the service waits 10 s at most. Slow work belongs after the answer, from a
    // durable queue of your own.
    answer(response, 204);
  });
});

server.listen(PORT, () => console.log(`event receiver listening on port ${PORT}`));
