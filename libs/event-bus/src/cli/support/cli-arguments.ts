import { CliUsageError } from './cli-errors.js';

/**
 * The parsers of the commands' options (commander calls them with the raw text, and the previous
 * value for a repeated option). Each refuses a bad value with a `CliUsageError` naming the option,
 * before anything is read from the store.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A date and a time, with a zone or without (then UTC is meant: the CLI must not depend on the machine's zone). */
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;

export function parseIsoDate(flag: string, raw: string): Date {
  const text = raw.trim();
  if (!ISO_DATE.test(text)) {
    throw new CliUsageError(flag, `must be an ISO-8601 date such as 2026-01-31 or 2026-01-31T12:00:00Z, got '${raw}'`);
  }
  const hasZone = /(?:Z|[+-]\d{2}:?\d{2})$/i.test(text) && text.length > 10;
  const date = new Date(text.length === 10 ? `${text}T00:00:00Z` : hasZone ? text : `${text}Z`);
  if (Number.isNaN(date.getTime()) || !isCalendarDate(text.slice(0, 10))) {
    throw new CliUsageError(flag, `is not a valid date, got '${raw}'`);
  }
  return date;
}

/** `YYYY-MM-DD` names a day that exists (`Date` would roll February 30 over into March). */
function isCalendarDate(day: string): boolean {
  const [year, month, date] = day.split('-').map(Number);
  const parsed = new Date(Date.UTC(year, month - 1, date));
  return parsed.getUTCFullYear() === year && parsed.getUTCMonth() === month - 1 && parsed.getUTCDate() === date;
}

/** `beginning`, or a date. */
export function parseDateOrBeginning(flag: string, raw: string): Date | 'beginning' {
  return raw.trim().toLowerCase() === 'beginning' ? 'beginning' : parseIsoDate(flag, raw);
}

export function parseUuid(flag: string, raw: string): string {
  const text = raw.trim();
  if (!UUID.test(text)) throw new CliUsageError(flag, `must be a UUID, got '${raw}'`);
  return text.toLowerCase();
}

export function parsePositiveInteger(flag: string, raw: string): number {
  const text = raw.trim();
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < 1) {
    throw new CliUsageError(flag, `must be a positive integer, got '${raw}'`);
  }
  return value;
}

/** A sequence number: 0 or more. */
export function parseSequence(flag: string, raw: string): number {
  const text = raw.trim();
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value)) {
    throw new CliUsageError(flag, `must be a sequence number (an integer, 0 or more), got '${raw}'`);
  }
  return value;
}

/** A non-empty name (a handler, an event type, a workflow id): the library checks the rest. */
export function parseName(flag: string, raw: string): string {
  const text = raw.trim();
  if (text === '') throw new CliUsageError(flag, 'must not be empty');
  return text;
}

/** A repeatable option: `--type a --type b` (or `--type a,b`) collects both. */
export function collectNames(flag: string, raw: string, previous: string[] | undefined): string[] {
  const names = raw.split(',').map((part) => parseName(flag, part));
  return [...(previous ?? []), ...names];
}

/** `from` must come before `to` when both are given. */
export function checkRange(from: Date | undefined, to: Date | undefined): void {
  if (from && to && to.getTime() <= from.getTime()) {
    throw new CliUsageError('--to', `must be after --from (${from.toISOString()}), got ${to.toISOString()}`);
  }
}
