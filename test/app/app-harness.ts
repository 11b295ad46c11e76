/**
 * Boots the sample app's real `AppModule` on a database of the test file's own (built by the
 * migrations) and on the chosen queue backend, with the demo's knobs turned down so a run takes a
 * fraction of a second: a slow node of 50 ms, flaky nodes retried after 20 ms.
 */
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';
import { AppModule } from '../../apps/workflow-engine/src/app.module.js';
import { loadConfig, type ResolvedAppConfig } from '../../apps/workflow-engine/src/infrastructure/config/app-config.js';
import type { TransportBackend } from '../support/bus.js';
import { createTestDatabase, testRedisConnection, uniquePrefix, type TestDatabase } from '../support/database.js';

export interface TestApp {
  app: INestApplication;
  config: ResolvedAppConfig;
  db: TestDatabase;
  /** Closes the app (shutdown hooks run), empties its Redis queue, drops the database. Safe to call twice. */
  close(): Promise<void>;
}

export async function bootTestApp(suite: string, backend: TransportBackend): Promise<TestApp> {
  const db = await createTestDatabase(suite);
  const base = loadConfig({ QUEUE_BACKEND: backend });
  const config: ResolvedAppConfig = {
    ...base,
    databaseUrl: db.url,
    queue:
      backend === 'redis'
        ? { backend, connection: testRedisConnection(), source: 'the test Redis' }
        : { backend, source: "BullMQ's PostgreSQL backend in the test database" },
    queuePrefix: uniquePrefix(suite),
    nodeRetry: { maxAttempts: 3, backoff: { type: 'fixed', delay: 20 } },
    demo: { slowNodeMs: 50, flakyFailures: 3 },
  };

  let app: INestApplication | undefined;
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closed ??= (async () => {
      await app?.close();
      if (backend === 'redis') await purgeRedisQueue(config);
      await db.drop();
    })());
  try {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule.forRoot(config)] }).compile();
    app = moduleRef.createNestApplication({ logger: process.env.EVENT_BUS_TEST_LOGS === '1' ? undefined : false });
    await app.init();
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
  return { app, config, db, close };
}

/** Every Redis key under the test's own prefix (the queue and what the bus keeps beside it) would outlive the test. */
async function purgeRedisQueue(config: ResolvedAppConfig): Promise<void> {
  const redis = new Redis(testRedisConnection());
  try {
    for await (const keys of redis.scanStream({ match: `${config.queuePrefix}:*`, count: 500 })) {
      if ((keys as string[]).length) await redis.del(...(keys as string[]));
    }
  } finally {
    redis.disconnect();
  }
}
