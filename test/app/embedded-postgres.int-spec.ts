/**
 * The app's embedded PostgreSQL: created on first start, its data kept between runs, stopped cleanly
 * when asked — and when the app process dies without asking.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import {
  launchEmbeddedPostgres,
  type EmbeddedPostgres,
} from '../../apps/workflow-engine/src/infrastructure/database/embedded-postgres.launcher.js';
import { waitFor } from '../support/database.js';
import { probePostgres } from '../support/service-probe.js';

const LOADER = new URL('../support/ts-loader/register.mjs', import.meta.url).href;
const FIXTURE = new URL('./fixtures/launch-embedded-postgres.ts', import.meta.url).pathname;

async function query(url: string, sql: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<Record<string, unknown>>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('embedded PostgreSQL launcher', () => {
  let root: string;
  const running: EmbeddedPostgres[] = [];

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'embedded-launcher-'));
    // As root, the server runs as the `postgres` user, who must be able to enter this directory.
    await chmod(root, 0o755);
  });
  afterAll(async () => {
    await Promise.all(running.map((server) => server.stop()));
    await rm(root, { recursive: true, force: true });
  });

  const launch = async (dataDir: string): Promise<EmbeddedPostgres> => {
    const server = await launchEmbeddedPostgres({
      dataDir,
      port: 0,
      database: 'launcher_test',
      execArgv: ['--import', LOADER],
    });
    running.push(server);
    return server;
  };

  it('creates the cluster on first start, keeps its data across a restart, and stops cleanly', async () => {
    const dataDir = join(root, 'kept');
    const first = await launch(dataDir);
    expect(first.initialised).toBe(true);
    expect(first.logFile).toBe(join(root, 'kept.log'));
    await query(first.url, `CREATE TABLE kept (value text); INSERT INTO kept VALUES ('still here')`);

    await first.stop();
    // A clean shutdown removes the lock file; nothing answers on the port any more.
    expect(existsSync(join(dataDir, 'postmaster.pid'))).toBe(false);
    expect(await probePostgres(first.url, 1000)).toBeDefined();

    const second = await launch(dataDir);
    expect(second.initialised).toBe(false);
    expect(await query(second.url, 'SELECT value FROM kept')).toEqual([{ value: 'still here' }]);
    await second.stop();
    await second.stop(); // safe to call twice
  });

  it('stops the server when the app process dies without stopping it', async () => {
    const dataDir = join(root, 'orphan');
    const app = spawn(process.execPath, ['--import', LOADER, FIXTURE, dataDir], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const [line] = (await once(createInterface({ input: app.stdout }), 'line')) as [string];
    const { url } = JSON.parse(line) as { url: string };
    expect(await probePostgres(url)).toBeUndefined();

    app.kill('SIGKILL');
    await once(app, 'exit');
    await waitFor(
      async () => (await probePostgres(url, 500)) !== undefined && !existsSync(join(dataDir, 'postmaster.pid')),
      {
        timeoutMs: 20_000,
        message: 'the supervisor to stop the orphaned server',
      },
    );
  });
});
