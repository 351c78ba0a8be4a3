import { startTestApp, type TestApp } from '../support/test-app';

const PRODUCTION = {
  NODE_ENV: 'production',
  TEST_ERROR_ROUTE: 'off',
  TWILIO_ACCOUNT_SID: `AC${'7'.repeat(32)}`,
  TWILIO_AUTH_TOKEN: 'production-like-token-1',
  TWILIO_WHATSAPP_FROM: 'whatsapp:+14155550100',
  TWILIO_API_BASE_URL: 'http://127.0.0.1:9',
  PUBLIC_BASE_URL: 'https://api.example.com',
  JWT_SECRET: 'p'.repeat(40),
  TRUST_PROXY: '1',
  METRICS_AUTH: 'off',
};

describe('HTTPS enforcement and security headers (production)', () => {
  let test: TestApp;

  beforeAll(async () => {
    test = await startTestApp(PRODUCTION);
  });

  afterAll(async () => {
    await test.close();
  });

  it.each(['/api/v1/auth/login', '/api/v1/whatsapp/status', '/api/v1/users'])(
    'should refuse plain HTTP to %s with 403 HTTPS_REQUIRED',
    async (url) => {
      const res = await test.app.inject({ method: 'POST', url, payload: {} });
      expect(res.statusCode).toBe(403);
      expect(res.json()).toMatchObject({ code: 'HTTPS_REQUIRED', requestId: expect.any(String) });
    },
  );

  it('should refuse plain HTTP to the health details, which carry an admin token', async () => {
    const res = await test.app.inject({ method: 'GET', url: '/api/v1/health/details' });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ code: 'HTTPS_REQUIRED' });
  });

  it('should let HTTPS through, as the proxy reports it in X-Forwarded-Proto', async () => {
    const res = await test.app.inject({
      method: 'GET',
      url: '/api/v1/users',
      headers: { 'x-forwarded-proto': 'https' },
    });
    expect(res.statusCode).toBe(401);
  });

  it.each(['/api/v1/health/live', '/api/v1/health/ready', '/metrics'])(
    'should serve probes and scrapes over plain HTTP: %s',
    async (url) => {
      const res = await test.app.inject({ method: 'GET', url });
      expect(res.statusCode).toBe(200);
    },
  );

  it('should send HSTS and the usual security headers', async () => {
    const res = await test.app.inject({ method: 'GET', url: '/api/v1/health/live' });
    expect(res.headers['strict-transport-security']).toMatch(/max-age=31536000; includeSubDomains/);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBeDefined();
  });

  it('should not mount the diagnostics routes in production', async () => {
    const res = await test.app.inject({
      method: 'GET',
      url: '/api/v1/__test/error',
      headers: { 'x-forwarded-proto': 'https' },
    });
    expect(res.statusCode).toBe(404);
  });
});
