import { QueryFailedError } from 'typeorm';
import {
  isDatabaseGone,
  isDatabaseUnreachable,
  isNotWritten,
  mayBelongToOneItem,
} from './postgres-errors';

describe('isDatabaseGone (an outage: answered 503 on every route)', () => {
  const pgError = (message: string, code?: string) =>
    Object.assign(new Error(message), code === undefined ? {} : { code });
  const typeOrmError = (driverError: Error) => new QueryFailedError('SELECT …', [], driverError);

  it.each([
    [
      'a dropped connection mid-statement',
      typeOrmError(pgError('Connection terminated unexpectedly')),
    ],
    ['a server shut down with -m immediate (57P01)', typeOrmError(pgError('x', '57P01'))],
    ['a crash of another backend (57P02)', typeOrmError(pgError('x', '57P02'))],
    ['a broken socket (08006)', typeOrmError(pgError('x', '08006'))],
    ['a reset connection', pgError('read ECONNRESET', 'ECONNRESET')],
    ['a refused connection', pgError('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
    ['a server starting up (57P03)', typeOrmError(pgError('x', '57P03'))],
  ])('should be true for %s', (_label, error) => {
    expect(isDatabaseGone(error)).toBe(true);
  });

  it.each([
    [
      'a full pool of our own (a leak or a lock)',
      pgError('timeout exceeded when trying to connect'),
    ],
    ['a unique violation', typeOrmError(pgError('duplicate key', '23505'))],
    ['a statement timeout (a slow query, not an outage)', typeOrmError(pgError('x', '57014'))],
    ['anything else', new Error('boom')],
  ])('should be false for %s', (_label, error) => {
    expect(isDatabaseGone(error)).toBe(false);
  });
});

describe('isNotWritten (a write that certainly did not happen)', () => {
  const pgError = (message: string, code?: string) =>
    Object.assign(new Error(message), code === undefined ? {} : { code });
  const typeOrmError = (driverError: Error) => new QueryFailedError('INSERT …', [], driverError);

  it.each([
    ['a statement timeout (57014: cancelled, rolled back)', typeOrmError(pgError('x', '57014'))],
    ['a full pool', pgError('timeout exceeded when trying to connect')],
    ['a slow new connection', pgError('Connection terminated due to connection timeout')],
    ['too many connections (53300)', typeOrmError(pgError('x', '53300'))],
    ['a refused connection', pgError('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
  ])('should be true for %s', (_label, error) => {
    expect(isNotWritten(error)).toBe(true);
  });

  it.each([
    ['a client-side read timeout: the statement may still commit', pgError('Query read timeout')],
    ['a dropped connection mid-statement', pgError('Connection terminated unexpectedly')],
    ['a unique violation', typeOrmError(pgError('duplicate key', '23505'))],
    ['anything else', new Error('boom')],
  ])('should be false for %s', (_label, error) => {
    expect(isNotWritten(error)).toBe(false);
  });
});

describe('isDatabaseUnreachable (no connection could be had)', () => {
  const pgError = (message: string, code?: string) =>
    Object.assign(new Error(message), code === undefined ? {} : { code });
  const typeOrmError = (driverError: Error) => new QueryFailedError('UPDATE …', [], driverError);

  it.each([
    ['a full pool', pgError('timeout exceeded when trying to connect')],
    ['a slow new connection', pgError('Connection terminated due to connection timeout')],
    ['too many connections (53300)', typeOrmError(pgError('x', '53300'))],
    ['a server starting up (57P03)', typeOrmError(pgError('x', '57P03'))],
    ['a refused connection', pgError('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
  ])('should be true for %s', (_label, error) => {
    expect(isDatabaseUnreachable(error)).toBe(true);
  });

  it.each([
    [
      'a statement timeout: one row of the batch may be what waited',
      typeOrmError(pgError('x', '57014')),
    ],
    ['a lost deadlock', typeOrmError(pgError('x', '40P01'))],
    ['a client-side read timeout', pgError('Query read timeout')],
    ['anything else', new Error('boom')],
  ])('should be false for %s', (_label, error) => {
    expect(isDatabaseUnreachable(error)).toBe(false);
  });
});

describe('mayBelongToOneItem (a batch worth writing again one item at a time)', () => {
  const pgError = (message: string, code?: string) =>
    Object.assign(new Error(message), code === undefined ? {} : { code });
  const typeOrmError = (driverError: Error) => new QueryFailedError('INSERT …', [], driverError);

  it.each([
    ['a value the database refuses (22P02)', typeOrmError(pgError('x', '22P02'))],
    ['a value too big for an index row (54000)', typeOrmError(pgError('x', '54000'))],
    ['a unique violation (23505)', typeOrmError(pgError('x', '23505'))],
    ['a lost deadlock (40P01)', typeOrmError(pgError('x', '40P01'))],
  ])('should be true for %s', (_label, error) => {
    expect(mayBelongToOneItem(error)).toBe(true);
  });

  it.each([
    ['a statement timeout (57014)', typeOrmError(pgError('x', '57014'))],
    ['a full pool', pgError('timeout exceeded when trying to connect')],
    ['anything else', new Error('boom')],
  ])('should be false for %s', (_label, error) => {
    expect(mayBelongToOneItem(error)).toBe(false);
  });
});
