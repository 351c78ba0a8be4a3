import type { InjectOptions, LightMyRequestResponse as Response } from 'fastify';
import { startTestApp, type TestApp } from '../support/test-app';

describe('HTTP contract: errors, request ids, metrics', () => {
  let test: TestApp;

  beforeAll(async () => {
    test = await startTestApp();
  });

  afterAll(async () => {
    await test.close();
  });

  const inject = (options: InjectOptions): Promise<Response> => test.app.inject(options);

  it('should answer malformed JSON with 400 in the error shape, never 500', async () => {
    const res = await inject({
      method: 'POST',
      url: '/api/v1/__test/echo',
      headers: { 'content-type': 'application/json' },
      payload: '{"name": "x",',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      code: 'BAD_REQUEST',
      message: expect.stringMatching(/JSON/),
      requestId: res.headers['x-request-id'],
    });
  });

  it('should answer a body over the limit with 413 PAYLOAD_TOO_LARGE', async () => {
    const res = await inject({
      method: 'POST',
      url: '/api/v1/__test/echo',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ name: 'x'.repeat(1024 * 1024 + 10) }),
    });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ statusCode: 413, code: 'PAYLOAD_TOO_LARGE' });
  });

  it('should answer an unsupported content type with 415 in the error shape', async () => {
    const res = await inject({
      method: 'POST',
      url: '/api/v1/__test/echo',
      headers: { 'content-type': 'application/x-yaml' },
      payload: 'name: x',
    });
    expect(res.statusCode).toBe(415);
    expect(res.json()).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
  });

  it('should list every invalid field in details with 400 VALIDATION_FAILED', async () => {
    const res = await inject({
      method: 'POST',
      url: '/api/v1/__test/echo',
      payload: { count: 'many', extra: true },
    });
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body).toMatchObject({ code: 'VALIDATION_FAILED', error: 'Bad Request' });
    expect(typeof body.message).toBe('string');
    const fields = (body.details as { field: string }[]).map((detail) => detail.field);
    expect(new Set(fields)).toEqual(new Set(['name', 'count', 'extra']));
  });

  it('should pass a valid body through the validation pipe', async () => {
    const res = await inject({
      method: 'POST',
      url: '/api/v1/__test/echo',
      payload: { name: 'ok', count: 3 },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ name: 'ok', count: 3 });
  });

  it('should answer unknown routes with 404 NOT_FOUND in the same shape', async () => {
    const res = await inject({ method: 'GET', url: '/api/v1/nothing-here?x=1' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ statusCode: 404, error: 'Not Found', code: 'NOT_FOUND' });
  });

  it('should answer a real failure with 500 INTERNAL and an errorId, not the stack', async () => {
    const res = await inject({ method: 'GET', url: '/api/v1/__test/error' });
    expect(res.statusCode).toBe(500);
    const body = res.json();
    expect(body).toMatchObject({ statusCode: 500, code: 'INTERNAL', errorId: expect.any(String) });
    expect(res.body).not.toMatch(/Deliberate|at .*\.ts/);
  });

  it('should honour an incoming X-Request-Id and return it', async () => {
    const res = await inject({
      method: 'GET',
      url: '/api/v1/nothing',
      headers: { 'x-request-id': 'client-id-42' },
    });
    expect(res.headers['x-request-id']).toBe('client-id-42');
    expect(res.json().requestId).toBe('client-id-42');
  });

  it('should replace an X-Request-Id that could forge log lines with its own', async () => {
    const res = await inject({
      method: 'GET',
      url: '/api/v1/health/live',
      headers: { 'x-request-id': 'bad id\nwith newline' },
    });
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('should expose the request histogram by route pattern, not raw URL', async () => {
    await inject({ method: 'GET', url: '/api/v1/health/live' });
    await inject({ method: 'GET', url: '/api/v1/no/such/route/123' });
    const res = await inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toMatch(
      /http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/health\/live",status="200"\} [1-9]/,
    );
    expect(res.body).toMatch(
      /http_request_duration_seconds_count\{method="GET",route="unmatched",status="404"\} [1-9]/,
    );
    expect(res.body).not.toMatch(/route="\/api\/v1\/no\/such/);
    expect(res.body).toMatch(/process_cpu_user_seconds_total/);
  });
});

describe('/metrics with METRICS_AUTH', () => {
  let test: TestApp;

  beforeAll(async () => {
    test = await startTestApp({ METRICS_AUTH: 'prom:scrape-secret' });
  });

  afterAll(async () => {
    await test.close();
  });

  it('should refuse a scrape without the credentials', async () => {
    const res = await test.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Basic/);
    expect(res.json()).toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('should serve the scrape with the credentials', async () => {
    const res = await test.app.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: `Basic ${Buffer.from('prom:scrape-secret').toString('base64')}` },
    });
    expect(res.statusCode).toBe(200);
    expect(res.body).toMatch(/http_request_duration_seconds/);
  });
});

describe('OpenAPI docs', () => {
  it('should serve /docs-json and /docs when DOCS_ENABLED is on, without a token', async () => {
    const test = await startTestApp({ DOCS_ENABLED: 'on' });
    try {
      const json = await test.app.inject({ method: 'GET', url: '/docs-json' });
      expect(json.statusCode).toBe(200);
      const document = json.json<{ paths: Record<string, unknown> }>();
      expect(Object.keys(document.paths)).toEqual(
        expect.arrayContaining([
          '/api/v1/whatsapp/send',
          '/api/v1/auth/login',
          '/api/v1/whatsapp/messages',
        ]),
      );
      const ui = await test.app.inject({ method: 'GET', url: '/docs' });
      expect(ui.statusCode).toBe(200);
    } finally {
      await test.close();
    }
  });

  it('should not serve docs when DOCS_ENABLED is off', async () => {
    const test = await startTestApp({ DOCS_ENABLED: 'off' });
    try {
      expect((await test.app.inject({ method: 'GET', url: '/docs-json' })).statusCode).toBe(404);
    } finally {
      await test.close();
    }
  });
});
