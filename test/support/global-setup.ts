/**
 * Decides, once per integration run, which PostgreSQL and Redis the suites use (see
 * environment.ts), starting an embedded PostgreSQL when none is configured or running locally.
 *
 * Jest loads global hooks with Node's own `require` (compiled to CommonJS, without its module
 * mapper), so a `./x.js` import of a TypeScript sibling cannot resolve here. The helpers are loaded
 * by their `.ts` path instead, and they in turn import only packages and Node built-ins.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EmbeddedPostgresServer } from '../../apps/workflow-engine/src/infrastructure/database/embedded-postgres.server.js';

const load = createRequire(import.meta.url);
const { DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL, servicesRequired, TEST_ENV } = load(
  './environment.ts',
) as typeof import('./environment.js');
const { ensurePostgresDatabase, probePostgres, probeRedis, redactUrl } = load(
  './service-probe.ts',
) as typeof import('./service-probe.js');
const { setTestRunState } = load('./test-run-state.ts') as typeof import('./test-run-state.js');
type TestRunState = import('./test-run-state.js').TestRunState;

export default async function globalSetup(): Promise<void> {
  const required = servicesRequired();
  const state: TestRunState = {
    // Created by the first notice, so a run that stops in this setup leaves nothing behind.
    noticesDir: join(tmpdir(), `event-bus-notices-${randomBytes(6).toString('hex')}`),
    database: '',
    redis: '',
    degraded: [],
  };
  process.env[TEST_ENV.noticesDir] = state.noticesDir;
  setTestRunState(state);

  await choosePostgres(state, required);
  try {
    await chooseRedis(state, required);
  } catch (error) {
    await state.embedded?.stop();
    throw error;
  }
  process.stdout.write(`\nTest environment\n  PostgreSQL: ${state.database}\n  Redis:      ${state.redis}\n`);
}

async function choosePostgres(state: TestRunState, required: boolean): Promise<void> {
  const configured = process.env[TEST_ENV.databaseUrl];
  if (configured) {
    const problem = await probePostgres(configured);
    if (problem) throw new Error(`DATABASE_URL (${redactUrl(configured)}) does not answer: ${problem}`);
    process.env[TEST_ENV.databaseMode] = 'configured';
    state.database = `DATABASE_URL ${redactUrl(configured)}`;
    return;
  }

  let problem = await probePostgres(DEFAULT_DATABASE_URL);
  if (problem?.includes('does not exist')) {
    // A local server without the `test` database: make it, as CI's service script does.
    problem = await ensurePostgresDatabase(DEFAULT_DATABASE_URL).then(
      () => probePostgres(DEFAULT_DATABASE_URL),
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    );
  }
  if (!problem) {
    process.env[TEST_ENV.databaseUrl] = DEFAULT_DATABASE_URL;
    process.env[TEST_ENV.databaseMode] = 'local';
    state.database = `local server ${DEFAULT_DATABASE_URL} (DATABASE_URL unset)`;
    return;
  }
  if (required) {
    throw new Error(
      `EVENT_BUS_REQUIRE_SERVICES=1 but DATABASE_URL is unset and ${DEFAULT_DATABASE_URL} does not answer (${problem}).`,
    );
  }

  state.embedded = await startTestPostgres();
  process.env[TEST_ENV.databaseUrl] = state.embedded.url;
  process.env[TEST_ENV.databaseMode] = 'embedded';
  state.database = `embedded PostgreSQL on port ${state.embedded.port}, data in ${state.embedded.dataDir} (deleted at the end)`;
  state.degraded.push(
    `PostgreSQL: DATABASE_URL is unset and 127.0.0.1:5432 did not answer (${problem}); ` +
      'the run used an embedded PostgreSQL instead.',
  );
}

async function chooseRedis(state: TestRunState, required: boolean): Promise<void> {
  const configured = process.env[TEST_ENV.redisUrl];
  const url = configured ?? DEFAULT_REDIS_URL;
  const problem = await probeRedis(url);
  if (!problem) {
    process.env[TEST_ENV.redisUrl] = url;
    process.env[TEST_ENV.redisAvailable] = '1';
    state.redis = configured ? `REDIS_URL ${redactUrl(url)}` : `local server ${url} (REDIS_URL unset)`;
    return;
  }
  // A Redis that was asked for by name and does not answer is an error, not a reason to skip.
  if (configured) throw new Error(`REDIS_URL (${redactUrl(configured)}) does not answer: ${problem}`);
  if (required) {
    throw new Error(`EVENT_BUS_REQUIRE_SERVICES=1 but REDIS_URL is unset and ${url} does not answer (${problem}).`);
  }
  process.env[TEST_ENV.redisAvailable] = '0';
  state.redis = "none: transport suites run on BullMQ's PostgreSQL backend only";
  state.degraded.push(
    `Redis: REDIS_URL is unset and ${url} did not answer (${problem}); ` +
      "the transport suites ran on BullMQ's PostgreSQL backend only, and Redis-only suites did not run.",
  );
}

/** One throwaway cluster for the whole run, tuned for speed: its data is deleted when it stops. */
async function startTestPostgres(): Promise<EmbeddedPostgresServer> {
  // Loaded only when needed: the package installs process exit hooks as soon as it is loaded.
  const { startEmbeddedPostgres } = load(
    '../../apps/workflow-engine/src/infrastructure/database/embedded-postgres.server.ts',
  ) as typeof import('../../apps/workflow-engine/src/infrastructure/database/embedded-postgres.server.js');
  process.stdout.write('\nStarting an embedded PostgreSQL for this run…\n');
  return startEmbeddedPostgres({
    // The fresh directory itself: as root, the package hands it to the `postgres` user, who could
    // not enter a subdirectory of a root-only temporary directory.
    dataDir: await mkdtemp(join(tmpdir(), 'event-bus-test-pg-')),
    database: 'test',
    persistent: false,
    settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: 300 },
  });
}
