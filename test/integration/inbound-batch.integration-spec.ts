import { randomBytes } from 'node:crypto';
import * as fc from 'fast-check';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { InboundRepository } from '../../src/modules/delivery/inbound/inbound.repository';
import { testDatabaseUrl } from '../support/test-env';
import type { InboundMessage } from '../../src/modules/delivery/delivery.types';

// Group commit of inbound messages must not change what happens: a batch gives exactly the
// outcomes and rows of the same messages stored one at a time in order — repeated MessageSids,
// several messages from one number, and STOP/START keywords in any order included.

interface Spec {
  sid: number; // index into a small pool, so repeats happen
  phone: number;
  optOut: boolean | undefined;
  profile: string | null;
}

const spec = fc.record({
  sid: fc.integer({ min: 0, max: 5 }),
  phone: fc.integer({ min: 0, max: 2 }),
  optOut: fc.constantFrom(true, false, undefined),
  profile: fc.constantFrom('Ana', 'Bo', null),
});

describe('group commit of inbound messages on the real database', () => {
  let dataSource: DataSource;
  let inbound: InboundRepository;

  beforeAll(async () => {
    dataSource = await new DataSource(
      dataSourceOptions({ url: testDatabaseUrl(), poolSize: 4 }, []),
    ).initialize();
    inbound = new InboundRepository(dataSource);
  });

  afterAll(async () => {
    await dataSource.destroy();
  });

  /** One world: its own SIDs and numbers, so two worlds never share a unique key. */
  function world(preOptedOut: boolean[]) {
    const tag = randomBytes(4).toString('hex');
    const digits = String(parseInt(tag, 16) % 10_000_000).padStart(7, '0');
    const phones = [0, 1, 2].map((index) => `+1${index + 2}15${digits}`);
    const base = Date.UTC(2026, 0, 1);
    return {
      phones,
      async seed(): Promise<void> {
        for (const [index, optedOut] of preOptedOut.entries()) {
          await dataSource.query(
            `INSERT INTO contacts (phone, profile_name, last_inbound_at, opted_out_at)
             VALUES ($1, 'Old', $2, $3)`,
            [phones[index], new Date(base), optedOut ? new Date(base) : null],
          );
        }
      },
      item(s: Spec, index: number): { message: InboundMessage; at: Date } {
        const phone = phones[s.phone];
        return {
          at: new Date(base + 1000 * (index + 1)),
          message: {
            twilioSid: `SM${tag}${s.sid}`,
            from: `whatsapp:${phone}`,
            to: 'whatsapp:+14155550100',
            body: s.optOut === true ? 'STOP' : s.optOut === false ? 'START' : 'hi',
            mediaUrls: [],
            metadata: {},
            phone,
            waId: phone.slice(1),
            profileName: s.profile,
            optOut: s.optOut,
            payload: { n: index },
            idempotencyToken: null,
          },
        };
      },
      async state() {
        const contacts = await dataSource.query<Record<string, unknown>[]>(
          `SELECT substr(phone, 1, 3) AS slot, wa_id IS NOT NULL AS has_wa, profile_name,
                  last_inbound_at, opted_out_at
             FROM contacts WHERE phone = ANY($1) ORDER BY phone`,
          [phones],
        );
        const messages = await dataSource.query<Record<string, unknown>[]>(
          `SELECT right(m.twilio_sid, 1) AS sid, m.body, l.payload, l.received_at
             FROM whatsapp_messages m JOIN message_status_logs l ON l.message_id = m.id
            WHERE m.twilio_sid LIKE $1 ORDER BY m.twilio_sid`,
          [`SM${tag}%`],
        );
        return { contacts, messages };
      },
    };
  }

  it('should give the same outcomes and rows as one message at a time, in order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(spec, { minLength: 1, maxLength: 12 }),
        fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
        async (specs, preOptedOut) => {
          const batched = world(preOptedOut);
          const single = world(preOptedOut);
          await batched.seed();
          await single.seed();
          const batchOutcomes = await inbound.recordMany(specs.map((s, i) => batched.item(s, i)));
          const singleOutcomes = [];
          for (const [index, s] of specs.entries()) {
            const { message, at } = single.item(s, index);
            singleOutcomes.push(...(await inbound.recordMany([{ message, at }])));
          }
          expect(batchOutcomes).toEqual(singleOutcomes);
          expect(await batched.state()).toEqual(await single.state());
        },
      ),
      { numRuns: 60, seed: 20261201 },
    );
  });
});
