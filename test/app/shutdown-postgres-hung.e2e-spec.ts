import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { purgeRedisQueue } from '../support/bus.js';
import {
  createTestDatabase,
  testDatabaseUrl,
  testRedisConnection,
  testRedisUrl,
  uniquePrefix,
  type TestDatabase,
} from '../support/database.js';
import { startFreezableProxy, type FreezableProxy } from '../support/freezable-proxy.js';
import { startAppProcess, type AppProcess } from './app-process.js';

/**
 * An app with `enableShutdownHooks()` whose PostgreSQL hangs (a proxy that stops forwarding, as a
 * SIGSTOPped server or a partition looks) while a handler that never returns runs: one SIGTERM must
 * end the process. The bus's close gives the handler `shutdownTimeoutMs`, then every step has a
 * deadline; TypeORM's `DataSource.destroy()` follows, and Nest re-raises the signal.
 */
describe('an app whose PostgreSQL hangs, on one SIGTERM', () => {
  let db: TestDatabase;
  let proxy: FreezableProxy;
  let app: AppProcess | undefined;
  const prefix = uniquePrefix('app-postgres-hung');

  beforeAll(async () => {
    db = await createTestDatabase('app-postgres-hung');
    const target = new URL(testDatabaseUrl());
    proxy = await startFreezableProxy({ host: target.hostname, port: Number(target.port || 5432) });
  });

  afterAll(async () => {
    app?.killIfRunning();
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
    app = startAppProcess('test/app/fixtures/app-with-shutdown-hooks.ts', env);
    await app.waitForOutput('handler-running', 30_000);

    proxy.freeze();
    app.child.kill('SIGTERM');
    const [code, signal] = await app.exited;

    expect({ code, signal }).toEqual({ code: null, signal: 'SIGTERM' });
    expect(app.output()).toContain('still running after shutdownTimeoutMs');
  }, 60_000);
});
