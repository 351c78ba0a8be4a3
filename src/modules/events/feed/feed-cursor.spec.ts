import { AppException } from '../../../common/errors/app.exception';
import { ErrorCode } from '../../../common/errors/error-code';
import { decodeFeedCursor, encodeFeedCursor } from './feed-cursor';

describe('feed cursors', () => {
  it.each([
    { xid: '0', id: '1' },
    { xid: '742', id: '1042' },
    { xid: '18446744073709551615', id: '9223372036854775807' },
  ])('should round-trip %p', (position) => {
    expect(decodeFeedCursor(encodeFeedCursor(position))).toEqual(position);
  });

  it.each([
    '',
    'x',
    '%%%',
    Buffer.from('742').toString('base64url'),
    Buffer.from('742.').toString('base64url'),
    Buffer.from('.1').toString('base64url'),
    Buffer.from('-1.1').toString('base64url'),
    Buffer.from('1.0').toString('base64url'),
    Buffer.from('1.1 ').toString('base64url'),
    Buffer.from('1.1.1').toString('base64url'),
    Buffer.from('18446744073709551616.1').toString('base64url'),
    Buffer.from('1.9223372036854775808').toString('base64url'),
    Buffer.from('1e3.1').toString('base64url'),
    Buffer.from(`${'9'.repeat(21)}.1`).toString('base64url'),
  ])('should refuse %p as VALIDATION_FAILED on after', (cursor) => {
    let thrown: unknown;
    try {
      decodeFeedCursor(cursor);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(AppException);
    expect(thrown).toMatchObject({
      code: ErrorCode.ValidationFailed,
      details: [expect.objectContaining({ field: 'after' })],
    });
  });
});
