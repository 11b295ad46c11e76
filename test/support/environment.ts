/**
 * Which services the integration run uses, decided once by the global setup and handed to the test
 * workers through `process.env` (workers inherit the environment of the process that starts them):
 *
 * - `DATABASE_URL`: the configured PostgreSQL; unset, the local one on 127.0.0.1:5432 if it answers,
 *   otherwise an embedded PostgreSQL started for the run.
 * - `REDIS_URL` and `EVENT_BUS_REDIS_AVAILABLE` (`1` or `0`): the configured Redis; unset, the local
 *   one on 127.0.0.1:6379 if it answers, otherwise none — transport suites then run on BullMQ's
 *   PostgreSQL backend only.
 * - `EVENT_BUS_REQUIRE_SERVICES=1` (CI): a missing service fails the run instead of a fallback.
 *
 * Suites that cannot run here call `reportNotRunnable()` (or use `describeIfRunnable()` from
 * runnable.ts); the global teardown prints every such notice in a banner after Jest's summary.
 *
 * The global setup loads this file with Node's own `require` (see global-setup.ts): keep its
 * imports to packages and Node built-ins.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** The environment variables through which the global setup talks to the test workers. */
export const TEST_ENV = {
  databaseUrl: 'DATABASE_URL',
  redisUrl: 'REDIS_URL',
  requireServices: 'EVENT_BUS_REQUIRE_SERVICES',
  redisAvailable: 'EVENT_BUS_REDIS_AVAILABLE',
  /** `configured`, `local` or `embedded`: where the run's PostgreSQL comes from. */
  databaseMode: 'EVENT_BUS_DATABASE_MODE',
  /** Directory where suites leave "not runnable here" notices for the end-of-run banner. */
  noticesDir: 'EVENT_BUS_NOTICES_DIR',
} as const;

/** True in CI: every service must be there, and nothing may silently fall back or skip. */
export function servicesRequired(): boolean {
  return process.env[TEST_ENV.requireServices] === '1';
}

/**
 * Whether a Redis is there for the transport suites. Set by the global setup; when a suite runs
 * without it (no setup), a configured `REDIS_URL` counts as available.
 */
export function redisAvailable(): boolean {
  const flag = process.env[TEST_ENV.redisAvailable];
  return flag === undefined ? process.env[TEST_ENV.redisUrl] !== undefined : flag === '1';
}

/**
 * Records that a suite (or part of one) cannot run in this environment. It is printed at once and
 * again, with every other notice, in the banner after Jest's summary, so a skipped suite is never
 * mistaken for a passing one.
 */
export function reportNotRunnable(suite: string, reason: string): void {
  const text = `${suite}: ${reason}`;
  process.stderr.write(`\n[not runnable here] ${text}\n`);
  const dir = process.env[TEST_ENV.noticesDir];
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${Date.now()}-${randomBytes(4).toString('hex')}.txt`), text);
}

/** Every notice left by `reportNotRunnable()` during the run, oldest first; repeats are counted, not listed again. */
export function readNotices(dir: string): string[] {
  let texts: string[];
  try {
    texts = readdirSync(dir)
      .sort()
      .map((file) => readFileSync(join(dir, file), 'utf8'));
  } catch {
    return [];
  }
  const counts = new Map<string, number>();
  for (const text of texts) counts.set(text, (counts.get(text) ?? 0) + 1);
  return [...counts].map(([text, count]) => (count > 1 ? `${text} (reported by ${count} test files)` : text));
}
