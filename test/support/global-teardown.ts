/**
 * Stops what the global setup started and prints, after Jest's summary, which services the run
 * used — loudly when one was missing or a suite could not run here. Loads its helpers by their
 * `.ts` path for the reason given in global-setup.ts.
 */
import { rm } from 'node:fs/promises';
import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);
const { readNotices } = load('./environment.ts') as typeof import('./environment.js');
const { getTestRunState } = load('./test-run-state.ts') as typeof import('./test-run-state.js');

export default async function globalTeardown(): Promise<void> {
  const state = getTestRunState();
  if (!state) return;
  await state.embedded?.stop();

  const notices = readNotices(state.noticesDir);
  await rm(state.noticesDir, { recursive: true, force: true });
  const problems = [...state.degraded, ...notices.map((notice) => `Not run here: ${notice}`)];

  const lines = [`PostgreSQL: ${state.database}`, `Redis:      ${state.redis}`];
  if (problems.length === 0) {
    process.stdout.write(`\nTest environment: every suite could run.\n  ${lines.join('\n  ')}\n`);
    return;
  }
  const rule = '!'.repeat(100);
  const body = [...lines, '', ...problems].map((line) => `!! ${line}`).join('\n');
  const hint = state.degraded.length
    ? '!! Set DATABASE_URL and REDIS_URL (e.g. `docker compose up -d`) to run everything.\n'
    : '';
  process.stderr.write(
    `\n${rule}\n!! NOT EVERYTHING RAN: this environment lacks services or tools some suites need.\n` +
      `${body}\n${hint}${rule}\n`,
  );
}
