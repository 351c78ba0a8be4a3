import { signedUrlFor } from './signed-url';

describe('signedUrlFor', () => {
  it.each([
    [
      'https://api.example.com',
      '/api/v1/whatsapp/status?mid=1',
      'https://api.example.com/api/v1/whatsapp/status?mid=1',
    ],
    [
      'https://api.example.com/',
      '/api/v1/whatsapp/webhook',
      'https://api.example.com/api/v1/whatsapp/webhook',
    ],
    [
      'https://api.example.com:8443',
      '/a?x=%20y&z=1+2',
      'https://api.example.com:8443/a?x=%20y&z=1+2',
    ],
    [
      'https://example.com/prefix',
      '/api/v1/whatsapp/status',
      'https://example.com/prefix/api/v1/whatsapp/status',
    ],
    [
      'http://127.0.0.1:5000',
      'api/v1/whatsapp/webhook',
      'http://127.0.0.1:5000/api/v1/whatsapp/webhook',
    ],
  ])('%s + %s → %s', (base, path, expected) => {
    expect(signedUrlFor(base, path)).toBe(expected);
  });
});
