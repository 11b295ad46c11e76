/**
 * The grammar of event types: segments of letters, digits, `_` and `-`, joined by `.`.
 * Patterns (`*`, `**`) are for subscriptions, never for the events themselves.
 */
export const MAX_EVENT_TYPE_LENGTH = 255;

const SEGMENT = /^[A-Za-z0-9_-]+$/;

/** Segment names that would reach `Object.prototype` wherever types become object keys. */
export const FORBIDDEN_NAMES: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** What is wrong with `type` as an event type, or `undefined` when it is valid. */
export function eventTypeProblem(type: unknown): string | undefined {
  if (typeof type !== 'string') return `must be a string, got ${describeValue(type)}`;
  if (type.length === 0) return 'must not be empty';
  if (type.length > MAX_EVENT_TYPE_LENGTH) {
    return `must be at most ${MAX_EVENT_TYPE_LENGTH} characters, got ${type.length}`;
  }
  for (const segment of type.split('.')) {
    if (segment === '') return `must not contain an empty segment (in "${type}")`;
    if (segment.includes('*')) return `must not contain a wildcard: patterns are for subscriptions (in "${type}")`;
    if (!SEGMENT.test(segment)) {
      return `segment "${segment}" may only contain letters, digits, "_" and "-" (segments are joined by ".")`;
    }
    if (FORBIDDEN_NAMES.has(segment)) return `must not contain a segment named "${segment}"`;
  }
  return undefined;
}

export function isValidEventType(type: unknown): type is string {
  return eventTypeProblem(type) === undefined;
}

/** A short description of a value for error messages (never the value itself, which may be large or secret). */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (typeof value === 'object') {
    const name = (Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null)?.constructor?.name;
    return name && name !== 'Object' ? `${/^[AEIOU]/i.test(name) ? 'an' : 'a'} ${name}` : 'an object';
  }
  return `a ${typeof value}`;
}
