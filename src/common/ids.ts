const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Our ids are uuids; anything else names nothing (and must never reach a uuid column). */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}
