import Fastify from 'fastify';
import { registerSecurityHeaders, securityHeaders } from './security-headers';

describe('security headers', () => {
  const options = { hsts: { maxAge: 31_536_000, includeSubDomains: true } };

  it('should compute helmet’s headers once, with our HSTS', () => {
    const headers = securityHeaders(options);
    expect(headers).toMatchObject({
      'strict-transport-security': 'max-age=31536000; includeSubDomains',
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'SAMEORIGIN',
      'referrer-policy': 'no-referrer',
    });
    expect(headers['content-security-policy']).toContain("default-src 'self'");
  });

  it('should put them on every answer, a 404 included', async () => {
    const app = Fastify();
    registerSecurityHeaders(app, options);
    app.get('/ok', () => ({ ok: true }));
    const ok = await app.inject({ method: 'GET', url: '/ok' });
    const missing = await app.inject({ method: 'GET', url: '/nowhere' });
    for (const response of [ok, missing]) {
      expect(response.headers['strict-transport-security']).toBe(
        'max-age=31536000; includeSubDomains',
      );
      expect(response.headers['x-content-type-options']).toBe('nosniff');
    }
    await app.close();
  });
});
