/**
 * Event timestamps: an ISO-8601 date-time with a time zone (`Z` or an offset), or a `Date`.
 * `Date.parse` alone would also accept "March 7" and roll 2024-02-30 over into March, and a
 * string without a zone would mean a different instant on every server, so the form is checked first.
 */
const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)$/i;

/**
 * Years 1 to 9999: the four-digit years of ISO-8601. PostgreSQL has no year 0, reads no
 * JavaScript expanded year (`+275760-…`, `-000001-…`), and stores nothing past 294276 anyway; a
 * date beyond these years in an event or a filter is a mistake (`new Date(8.64e15)` as "no end").
 */
const EARLIEST = new Date('0001-01-01T00:00:00.000Z').getTime();
const LATEST = new Date('9999-12-31T23:59:59.999Z').getTime();

/** What is wrong with a `Date` as a stored or compared instant, or `undefined`. */
export function dateProblem(value: Date): string | undefined {
  const time = value.getTime();
  if (Number.isNaN(time)) return 'is an invalid Date';
  if (time < EARLIEST || time > LATEST) {
    return 'must be between 0001-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z (years 1 to 9999)';
  }
  return undefined;
}

/** The timestamp as an ISO string with millisecond precision (JavaScript's, and what is stored), or the problem. */
export function normalizeTimestamp(value: unknown): { iso: string } | { problem: string } {
  if (value instanceof Date) {
    const problem = dateProblem(value);
    return problem ? { problem } : { iso: value.toISOString() };
  }
  if (typeof value !== 'string') {
    return { problem: 'must be an ISO-8601 string or a Date' };
  }
  const match = ISO_DATE_TIME.exec(value);
  if (!match) {
    return {
      problem: `must be an ISO-8601 date-time with a time zone (e.g. 2025-01-31T12:00:00.000Z), got "${value.slice(0, 40)}"`,
    };
  }
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map((part) => Number(part ?? 0));
  const calendar = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not map years 0–99 to 1900–1999.
  calendar.setUTCFullYear(year, month - 1, day);
  if (
    calendar.getUTCFullYear() !== year ||
    calendar.getUTCMonth() !== month - 1 ||
    calendar.getUTCDate() !== day ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  ) {
    return { problem: `is not a real date and time: "${value}"` };
  }
  // Date.parse wants upper case, '.', at most millisecond digits and an offset with minutes.
  const canonical = value
    .toUpperCase()
    .replace(',', '.')
    .replace(/\.(\d{3})\d+/, '.$1')
    .replace(/([+-]\d{2})$/, '$1:00');
  const parsed = new Date(Date.parse(canonical));
  if (Number.isNaN(parsed.getTime())) return { problem: `is not a valid date-time: "${value}"` };
  // Year 0, or an offset that moves a date at either end out of years 1 to 9999.
  const problem = dateProblem(parsed);
  return problem ? { problem } : { iso: parsed.toISOString() };
}
