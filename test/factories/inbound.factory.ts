import { randomBytes } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { InboundMessage } from '../../src/modules/delivery/delivery.types';
import { InboundRepository } from '../../src/modules/delivery/inbound/inbound.repository';

/** A random +1555 number, for a contact of a test's own. */
export function newPhone(): string {
  return `+1555${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
}

/** An inbound message from `phone` as the webhook parses it, with a fresh MessageSid. */
export function inboundMessage(
  phone: string = newPhone(),
  overrides: Partial<InboundMessage> = {},
): InboundMessage {
  return {
    twilioSid: `SM${randomBytes(16).toString('hex')}`,
    from: `whatsapp:${phone}`,
    to: 'whatsapp:+14155238886',
    body: 'hello',
    mediaUrls: [],
    metadata: {},
    phone,
    waId: phone.slice(1),
    profileName: null,
    optOut: undefined,
    payload: {},
    idempotencyToken: null,
    ...overrides,
  };
}

/** A message from `phone` received at `at`, stored the way the inbound webhook stores it. */
export async function receiveInbound(
  app: NestFastifyApplication,
  phone: string,
  at: Date,
  body = 'hello',
): Promise<void> {
  await app
    .get(InboundRepository, { strict: false })
    .recordMany([{ message: inboundMessage(phone, { body }), at }]);
}
