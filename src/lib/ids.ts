import { v7 as uuidv7 } from 'uuid';

/**
 * New ids are UUIDv7: unique without coordination, and ordered by creation time, so that keyset
 * pagination by id lists records in the order they were made.
 */
export function newId(): string {
  return uuidv7();
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True when `value` can be compared with a `uuid` column without a cast error. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}
