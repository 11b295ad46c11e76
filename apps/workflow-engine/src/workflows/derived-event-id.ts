import { createHash } from 'node:crypto';

/** Namespace of the ids below, so they never collide with ids derived the same way elsewhere. */
const NAMESPACE = Buffer.from('5b0c9a4e7f2d4c1b9e3a6d8f1c2b4a70', 'hex');

/**
 * A UUID derived from a name (the version-5 layout of RFC 9562: SHA-1 of namespace and name).
 * Handlers run at least once; publishing what a handler causes under an id derived from the cause
 * makes a second run's publish a no-op, because the event bus stores an event id only once.
 */
export function derivedEventId(...parts: string[]): string {
  const hash = createHash('sha1').update(NAMESPACE).update(parts.join('/')).digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
