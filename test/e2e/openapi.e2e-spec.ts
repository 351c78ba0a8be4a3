import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';
import { startTestApp } from '../support/test-app';

// The OpenAPI document the app serves is what clients generate from: it must be valid, describe
// every request body and every answer, and give a client that type-checks. A route added without
// its description fails here.

interface MediaType {
  schema?: unknown;
}
interface Response {
  description?: string;
  content?: Record<string, MediaType>;
}
interface Operation {
  requestBody?: { content?: Record<string, MediaType> };
  responses?: Record<string, Response>;
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const WRITES = new Set(['post', 'put', 'patch']);

/** Write operations that really take no body, each with its reason. */
const NO_BODY: Readonly<Record<string, string>> = {
  'POST /api/v1/whatsapp/messages/{id}/retry':
    'the admin retry acts on the message named in the path; there is nothing to send',
  'POST /api/v1/subscriptions/{id}/rotate-secret':
    'the new secret is made by the service; the path names the subscription',
  'POST /api/v1/subscriptions/{id}/test': 'a ping carries nothing from the caller',
};

let document: Document;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'openapi-'));
  const test = await startTestApp({ DOCS_ENABLED: 'on' });
  try {
    const res = await test.app.inject({ method: 'GET', url: '/docs-json' });
    expect(res.statusCode).toBe(200);
    document = res.json<Document>();
  } finally {
    await test.close();
  }
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

// @apidevtools/swagger-parser and openapi-typescript load ES modules, which Jest's CommonJS
// runtime cannot (Node itself can): both run in a child Node.
const run = promisify(execFile);

/** SwaggerParser.validate on a file: '' when valid, else why not. */
async function swaggerParserErrors(file: string): Promise<string> {
  const script = `require(process.argv[1]).validate(process.argv[2]).then(
    () => undefined,
    (error) => { process.stdout.write(String(error && error.message)); process.exitCode = 1; },
  );`;
  const parser = require.resolve('@apidevtools/swagger-parser');
  try {
    await run(process.execPath, ['-e', script, parser, file], { cwd: dir });
    return '';
  } catch (error) {
    return (error as { stdout?: string }).stdout || String(error);
  }
}

/** openapi-typescript's CLI: the document's types, written to `output`. */
async function generateTypes(input: string, output: string): Promise<void> {
  const cli = join(dirname(require.resolve('openapi-typescript/package.json')), 'bin/cli.js');
  await run(process.execPath, [cli, input, '--output', output], { cwd: dir });
}

function operations(): [string, Operation][] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    METHODS.filter((method) => item[method] !== undefined).map((method): [string, Operation] => [
      `${method.toUpperCase()} ${path}`,
      item[method],
    ]),
  );
}

/** What is missing from one media-type map: none, or which media type has no schema. */
function schemaless(content: Record<string, MediaType> | undefined): string | null {
  const types = Object.entries(content ?? {});
  if (types.length === 0) return 'no content';
  const missing = types.filter(([, media]) => media.schema === undefined).map(([type]) => type);
  return missing.length > 0 ? `no schema for ${missing.join(', ')}` : null;
}

describe('OpenAPI document (/docs-json)', () => {
  it('should be a valid OpenAPI document (swagger-parser)', async () => {
    const file = join(dir, 'openapi.json');
    writeFileSync(file, JSON.stringify(document));
    expect(await swaggerParserErrors(file)).toBe('');
    expect(operations().length).toBeGreaterThan(0);
  });

  it('should describe every answer of every operation with a schema', () => {
    const problems: string[] = [];
    for (const [name, operation] of operations()) {
      const responses = Object.entries(operation.responses ?? {});
      if (!responses.some(([status]) => /^2\d\d$/.test(status))) {
        problems.push(`${name}: no success response`);
      }
      for (const [status, response] of responses) {
        if (!response.description?.trim()) problems.push(`${name} ${status}: no description`);
        if (status === '204') {
          // No Content: nothing to describe but the absence of a body.
          if (response.content !== undefined) problems.push(`${name} 204: declares a body`);
          continue;
        }
        const missing = schemaless(response.content);
        if (missing !== null) problems.push(`${name} ${status}: ${missing}`);
      }
      if (!responses.some(([status]) => /^[45]\d\d$/.test(status))) {
        problems.push(`${name}: no error response`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('should describe the request body of every write operation that takes one', () => {
    const problems: string[] = [];
    const all = new Map(operations());
    for (const [name, operation] of all) {
      const method = name.split(' ')[0].toLowerCase();
      if (!WRITES.has(method)) continue;
      const missing =
        operation.requestBody === undefined
          ? 'no request body'
          : schemaless(operation.requestBody.content);
      if (name in NO_BODY) {
        if (operation.requestBody !== undefined) {
          problems.push(`${name}: listed as taking no body, yet describes one`);
        }
      } else if (missing !== null) {
        problems.push(`${name}: ${missing}`);
      }
    }
    for (const name of Object.keys(NO_BODY)) {
      if (!all.has(name)) problems.push(`${name}: listed as taking no body, but no such operation`);
    }
    expect(problems).toEqual([]);
  });

  describe('a client generated with openapi-typescript', () => {
    it('should type-check a sample flow: log in, send, follow the message', async () => {
      const input = join(dir, 'client.json');
      writeFileSync(input, JSON.stringify(document));
      await generateTypes(input, join(dir, 'api.d.ts'));
      const sample = join(dir, 'sample.ts');
      writeFileSync(sample, SAMPLE_FLOW);

      const program = ts.createProgram([sample], {
        strict: true,
        noEmit: true,
        noUncheckedIndexedAccess: true,
        exactOptionalPropertyTypes: true,
        noUnusedLocals: true,
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.ESNext,
        moduleResolution: ts.ModuleResolutionKind.Bundler,
        lib: ['lib.es2022.d.ts'],
        types: [],
        skipLibCheck: false,
      });
      const diagnostics = ts.getPreEmitDiagnostics(program);
      const report = ts.formatDiagnostics(diagnostics, {
        getCanonicalFileName: (name) => name,
        getCurrentDirectory: () => dir,
        getNewLine: () => '\n',
      });
      expect(report).toBe('');
    });
  });
});

/**
 * A client's flow against the generated types. The @ts-expect-error lines prove the types are
 * real: with `any` or `unknown` they would be unused (an error) or fail elsewhere.
 */
const SAMPLE_FLOW = `
import type { components, paths } from './api';

type Login = paths['/api/v1/auth/login']['post'];
type LoginBody = Login['requestBody']['content']['application/json'];
type LoginAnswer = Login['responses'][200]['content']['application/json'];
type LoginRefused = Login['responses'][401]['content']['application/json'];

type Send = paths['/api/v1/whatsapp/send']['post'];
type SendBody = Send['requestBody']['content']['application/json'];
type SendHeaders = NonNullable<Send['parameters']['header']>;
type SendAnswer = Send['responses'][202]['content']['application/json'];
type SendRefused = Send['responses'][422]['content']['application/json'];

type Status = paths['/api/v1/whatsapp/delivery-status/{messageSid}']['get'];
type StatusPath = Status['parameters']['path'];
type StatusAnswer = Status['responses'][200]['content']['application/json'];

type List = paths['/api/v1/whatsapp/messages']['get'];
type ListQuery = NonNullable<List['parameters']['query']>;
type ListAnswer = List['responses'][200]['content']['application/json'];

type Inbound = paths['/api/v1/whatsapp/webhook']['post'];
type InboundForm = Inbound['requestBody']['content']['application/x-www-form-urlencoded'];
type InboundAnswer = Inbound['responses'][200]['content']['text/xml'];

// Log in and read the token.
export const login: LoginBody = { email: 'ada@example.com', password: 'correct horse battery staple' };
// @ts-expect-error a login needs a password
export const noPassword: LoginBody = { email: 'ada@example.com' };
declare const loginAnswer: LoginAnswer;
export const accessToken: string = loginAnswer.accessToken;
export const authorization: string = loginAnswer.tokenType + ' ' + accessToken;
export const expiresIn: number = loginAnswer.expiresIn;
// @ts-expect-error the token is a string
export const tokenAsNumber: number = loginAnswer.accessToken;
declare const loginRefused: LoginRefused;
export const refusedCode: 'UNAUTHORIZED' = loginRefused.code;

// Send, with an idempotency key.
export const text: SendBody = {
  to: '+14155550100',
  message: 'Your order has shipped.',
  reference: 'order-42',
  metadata: { orderId: 42 },
};
export const template: SendBody = {
  to: 'whatsapp:+14155550100',
  contentSid: 'HX0123456789abcdef0123456789abcdef',
  contentVariables: { '1': 'Ada' },
};
export const media: SendBody = { to: '+14155550100', mediaUrl: ['https://example.com/a.png'] };
// @ts-expect-error a send needs a recipient
export const noRecipient: SendBody = { message: 'Hello' };
export const headers: SendHeaders = { 'idempotency-key': 'order-42-shipped' };
declare const accepted: SendAnswer;
export const messageId: string = accepted.id;
export const pending: 'pending' = accepted.status;
declare const refused: SendRefused;
export const windowClosed: boolean = refused.code === 'WINDOW_CLOSED';
export const details: string[] = (refused.details ?? []).map((detail) => detail.field);
// @ts-expect-error a 422 of /send is never NOT_FOUND
export const notFound: boolean = refused.code === 'NOT_FOUND';

// Follow the message.
export const path: StatusPath = { messageSid: messageId };
declare const delivery: StatusAnswer;
export const status: components['schemas']['MessageStatus'] = delivery.status;
export const delivered: boolean = delivery.status === 'delivered';
export const deliveredAt: string | null = delivery.deliveredAt;
export const applied: boolean[] = delivery.history.map((entry) => entry.applied);
// @ts-expect-error not a status
export const bounced: boolean = delivery.status === 'bounced';

// List them.
export const query: ListQuery = { status: 'failed', direction: 'outbound', limit: 50 };
declare const page: ListAnswer;
export const ids: string[] = page.items.map((message) => message.id);
export const nextCursor: string | null = page.nextCursor;

// Twilio's side: a form in, TwiML out.
export const inbound: InboundForm = {
  MessageSid: 'SM0123456789abcdef0123456789abcdef',
  From: 'whatsapp:+14155550100',
  To: 'whatsapp:+14155550199',
  Body: 'STOP',
};
declare const twiml: InboundAnswer;
export const xml: string = twiml;
`;
