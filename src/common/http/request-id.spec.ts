import type { IncomingMessage } from 'node:http';
import { requestIdFor } from './request-id';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function requestWith(value: string | string[] | undefined): IncomingMessage {
  return { headers: { 'x-request-id': value } } as unknown as IncomingMessage;
}

describe('requestIdFor', () => {
  it.each(['abc', 'req-1.2_3:4', 'A'.repeat(128)])('should honour a plain incoming id %s', (id) => {
    expect(requestIdFor(requestWith(id))).toBe(id);
  });

  it.each([undefined, '', 'a b', 'x\ny', '{"json":1}', 'A'.repeat(129)])(
    'should generate a uuid instead of %p',
    (id) => {
      expect(requestIdFor(requestWith(id))).toMatch(UUID);
    },
  );

  it('should take the first of repeated headers', () => {
    expect(requestIdFor(requestWith(['first', 'second']))).toBe('first');
  });
});
