/**
 * The app's embedded PostgreSQL: created on first start, its data kept between runs, stopped cleanly
 * when asked — and when the app process dies without asking.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
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

  const launch = async (dataDir: string, stopTimeoutMs?: number): Promise<EmbeddedPostgres> => {
    const server = await launchEmbeddedPostgres({
      dataDir,
      port: 0,
      database: 'launcher_test',
      execArgv: ['--import', LOADER],
      stopTimeoutMs,
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

  it('kills a server that does not stop in time (frozen), which then recovers on its next start', async () => {
    const dataDir = join(root, 'frozen');
    const server = await launch(dataDir, 1000);
    await query(server.url, `CREATE TABLE kept (value text); INSERT INTO kept VALUES ('committed')`);
    // The postmaster and every process of the server, frozen as by SIGSTOP from outside.
    const postmaster = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const frozen = [postmaster, ...childrenOf(postmaster)];
    try {
      for (const pid of frozen) process.kill(pid, 'SIGSTOP');

      expect(await server.stop()).toBe(false);
      expect(frozen.filter(isAlive)).toEqual([]);
    } finally {
      for (const pid of frozen.filter(isAlive)) process.kill(pid, 'SIGKILL');
    }

    const again = await launch(dataDir);
    expect(await query(again.url, 'SELECT value FROM kept')).toEqual([{ value: 'committed' }]);
    expect(await again.stop()).toBe(true);
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

function childrenOf(parent: number): number[] {
  return execFileSync('ps', ['-A', '-o', 'pid=,ppid='], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.trim().split(/\s+/).map(Number))
    .filter(([pid, ppid]) => pid && ppid === parent)
    .map(([pid]) => pid);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
