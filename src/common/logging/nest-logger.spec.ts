import { Writable } from 'node:stream';
import { pino } from 'pino';
import { NestPinoLogger } from './nest-logger';

function capture(): { logger: NestPinoLogger; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const root = pino({ level: 'debug', base: undefined, timestamp: false }, stream);
  return {
    logger: new NestPinoLogger(root),
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

describe('NestPinoLogger', () => {
  it('should write an object’s fields, the message and the context Nest appends', () => {
    const { logger, lines } = capture();
    logger.log({ messageId: 'm1' }, 'Message accepted', 'MessagingService');
    expect(lines()).toEqual([
      { level: 30, context: 'MessagingService', messageId: 'm1', msg: 'Message accepted' },
    ]);
  });

  it('should write a plain message with its context, at the right level', () => {
    const { logger, lines } = capture();
    logger.warn('Redis unreachable', 'RedisModule');
    logger.verbose('hidden below debug', 'X');
    expect(lines()).toEqual([{ level: 40, context: 'RedisModule', msg: 'Redis unreachable' }]);
  });

  it('should put an Error under err, and turn Nest’s error(message, stack, context) into one', () => {
    const { logger, lines } = capture();
    logger.error(new Error('boom'), 'Worker');
    logger.error('Unhandled', 'Error: Unhandled\n    at here', 'ExceptionsHandler');
    const [first, second] = lines();
    expect(first).toMatchObject({ level: 50, context: 'Worker', err: { message: 'boom' } });
    expect(second).toMatchObject({
      level: 50,
      context: 'ExceptionsHandler',
      err: { message: 'Unhandled', stack: 'Error: Unhandled\n    at here' },
    });
  });
});
