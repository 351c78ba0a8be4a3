import { newWebhookSecret, signWebhook } from './webhook-signature';

// The Standard Webhooks scheme: v1,<base64 HMAC-SHA256 over "<id>.<timestamp>.<body>"> keyed by
// the secret's base64 bytes after `whsec_`. The first vector is the scheme's published example
// (Svix's documentation); the rest follow from the definition.
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

describe('signWebhook', () => {
  it.each([
    {
      name: 'the published example',
      id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      timestamp: 1614265330,
      body: '{"test": 2432232314}',
      secrets: [SECRET],
      signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    },
    {
      name: 'a fractional timestamp signs its whole seconds',
      id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      timestamp: 1614265330.999,
      body: '{"test": 2432232314}',
      secrets: [SECRET],
      signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    },
  ])('should sign $name', ({ id, timestamp, body, secrets, signature }) => {
    expect(signWebhook(id, timestamp, body, secrets)).toEqual({
      'webhook-id': id,
      'webhook-timestamp': '1614265330',
      'webhook-signature': signature,
    });
  });

  it('should give one signature per secret, current first, space-separated (a rotation)', () => {
    const previous = newWebhookSecret();
    const both = signWebhook('evt_1', 1614265330, '{}', [SECRET, previous]);
    const [current, old] = both['webhook-signature'].split(' ');
    expect(current).toBe(signWebhook('evt_1', 1614265330, '{}', [SECRET])['webhook-signature']);
    expect(old).toBe(signWebhook('evt_1', 1614265330, '{}', [previous])['webhook-signature']);
  });

  it('should change with the id, the timestamp, the body and the secret', () => {
    const base = signWebhook('evt_1', 100, '{"a":1}', [SECRET])['webhook-signature'];
    expect(signWebhook('evt_2', 100, '{"a":1}', [SECRET])['webhook-signature']).not.toBe(base);
    expect(signWebhook('evt_1', 101, '{"a":1}', [SECRET])['webhook-signature']).not.toBe(base);
    expect(signWebhook('evt_1', 100, '{"a":2}', [SECRET])['webhook-signature']).not.toBe(base);
    expect(
      signWebhook('evt_1', 100, '{"a":1}', [newWebhookSecret()])['webhook-signature'],
    ).not.toBe(base);
  });

  it('should make secrets of 32 random bytes behind whsec_', () => {
    const secret = newWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32);
    expect(newWebhookSecret()).not.toBe(secret);
  });
});
