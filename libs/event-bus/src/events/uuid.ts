/**
 * UUIDs in the canonical 8-4-4-4-12 hex form (any version, either case). PostgreSQL accepts
 * looser spellings (braces, no hyphens), but ids are compared as strings in the app, so only the
 * canonical one is let in, and it is lower-cased: the form PostgreSQL returns.
 */
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID_PATTERN.test(value);
}

/** The lower-case form of a UUID already checked with `isUuid`. */
export function normalizeUuid(value: string): string {
  return value.toLowerCase();
}
