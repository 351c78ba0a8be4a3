import { randomBytes } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { InboundRepository } from '../../src/modules/delivery/inbound/inbound.repository';

/** A message from `phone` received at `at`, stored the way the inbound webhook stores it. */
export async function receiveInbound(
  app: NestFastifyApplication,
  phone: string,
  at: Date,
  body = 'hello',
): Promise<void> {
  const sid = `SM${randomBytes(16).toString('hex')}`;
  await app.get(InboundRepository, { strict: false }).recordMany([
    {
      message: {
        twilioSid: sid,
        from: `whatsapp:${phone}`,
        to: 'whatsapp:+14155238886',
        body,
        mediaUrls: [],
        metadata: {},
        phone,
        waId: phone.slice(1),
        profileName: null,
        optOut: undefined,
        payload: {},
        idempotencyToken: null,
      },
      at,
    },
  ]);
}
