import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { purgeRedisQueue } from '../support/bus.js';
import {
  createTestDatabase,
  testDatabaseUrl,
  testRedisConnection,
  testRedisUrl,
  uniquePrefix,
  waitFor,
  type TestDatabase,
} from '../support/database.js';
import { startFreezableProxy, type FreezableProxy } from '../support/freezable-proxy.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * An app with `enableShutdownHooks()` whose PostgreSQL hangs (a proxy that stops forwarding, as a
 * SIGSTOPped server or a partition looks) while a handler that never returns runs: one SIGTERM must
 * end the process. The bus's close gives the handler `shutdownTimeoutMs`, then every step has a
 * deadline; TypeORM's `DataSource.destroy()` follows, and Nest re-raises the signal.
 */
describe('an app whose PostgreSQL hangs, on one SIGTERM', () => {
  let db: TestDatabase;
  let proxy: FreezableProxy;
  let child: ChildProcess | undefined;
  const prefix = uniquePrefix('app-postgres-hung');

  beforeAll(async () => {
    db = await createTestDatabase('app-postgres-hung');
    const target = new URL(testDatabaseUrl());
    proxy = await startFreezableProxy({ host: target.hostname, port: Number(target.port || 5432) });
  });

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await proxy?.close();
    await purgeRedisQueue(testRedisConnection(), prefix, 'workflow-events');
    await db?.drop();
  });

  it('ends the process', async () => {
    const env = {
      ...process.env,
      DATABASE_URL: proxy.rewrite(db.url),
      REDIS_URL: testRedisUrl(),
      EVENT_BUS_PREFIX: prefix,
    };
    const app = spawn(
      process.execPath,
      ['--import', './test/support/ts-loader/register.mjs', 'test/app/fixtures/app-with-shutdown-hooks.ts'],
      { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = app;
    let output = '';
    app.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    app.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = once(app, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    await waitFor(() => output.includes('handler-running') || app.exitCode !== null, {
      timeoutMs: 30_000,
      message: 'the handler to start',
    });
    expect(output).toContain('handler-running');

    proxy.freeze();
    app.kill('SIGTERM');
    const [code, signal] = await exited;

    expect({ code, signal }).toEqual({ code: null, signal: 'SIGTERM' });
    expect(output).toContain('still running after shutdownTimeoutMs');
  }, 60_000);
});
