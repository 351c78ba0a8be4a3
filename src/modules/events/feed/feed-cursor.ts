import { AppException } from '../../../common/errors/app.exception';
import { ErrorCode } from '../../../common/errors/error-code';
import type { EventLogPosition } from '../../delivery/delivery.types';

const POSITION = /^(\d{1,20})\.(\d{1,19})$/;
const MAX_XID8 = 2n ** 64n - 1n;
const MAX_BIGINT = 2n ** 63n - 1n;

/** An opaque cursor for a place in the feed: base64url of `<xid>.<id>`. */
export function encodeFeedCursor(position: EventLogPosition): string {
  return Buffer.from(`${position.xid}.${position.id}`).toString('base64url');
}

/**
 * The place a cursor names; anything that is not a cursor we made (bad base64, other text,
 * numbers out of PostgreSQL's range) is a 400 on `after`, never a database error.
 */
export function decodeFeedCursor(cursor: string): EventLogPosition {
  const match = POSITION.exec(Buffer.from(cursor, 'base64url').toString('latin1'));
  const [xid, id] = match ? [BigInt(match[1]), BigInt(match[2])] : [-1n, -1n];
  if (!match || xid > MAX_XID8 || id > MAX_BIGINT || id < 1n) {
    throw new AppException(ErrorCode.ValidationFailed, 'The cursor is invalid.', [
      { field: 'after', message: 'after must be a cursor from a previous page or event' },
    ]);
  }
  return { xid: xid.toString(), id: id.toString() };
}
