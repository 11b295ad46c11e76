import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { freePort } from '../support/redis-server.js';
import { startAppProcess, type AppProcess } from './app-process.js';

const SAMPLE_APP = 'apps/workflow-engine/src/main.ts';

/**
 * The sample app as a newcomer runs it (its own `main.ts`, no DATABASE_URL or REDIS_URL: the
 * embedded PostgreSQL), stopped the way a person stops it: one Ctrl-C. It must close cleanly, exit
 * code 0, and not take that one signal for a second one that gives up waiting. (With Nest's own
 * signal listener on as well, Nest re-raised the signal once it had closed the app, while the
 * embedded database was still stopping: the app then exited 1.)
 */
describe('the sample app on one SIGINT', () => {
  let dataRoot: string;
  let app: AppProcess | undefined;

  beforeAll(async () => {
    dataRoot = await mkdtemp(join(tmpdir(), 'app-shutdown-'));
  });

  afterEach(() => {
    app?.killIfRunning();
    app = undefined;
  });

  afterAll(() => rm(dataRoot, { recursive: true, force: true }));

  it('closes the app and exits 0, without giving up on the shutdown', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', EMBEDDED_POSTGRES_DIR: join(dataRoot, 'postgres') };
    // Embedded mode: its own database server, and the queue on BullMQ's PostgreSQL backend in it.
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'REDIS_HOST', 'REDIS_PORT', 'REDIS_PASSWORD']) delete env[name];
    app = startAppProcess(SAMPLE_APP, env);
    const { child, exited } = app;
    await app.waitForOutput('Ready on', 60_000);

    child.kill('SIGINT');
    const [code, signal] = await exited;
    expect(app.output()).toContain('SIGINT: closing the app');
    expect(app.output()).not.toContain('SIGINT again');
    expect(app.output()).toContain('Embedded PostgreSQL stopped');
    expect({ code, signal }).toEqual({ code: 0, signal: null });
  }, 90_000);
});

/**
 * The sample app given a Redis address nothing listens on: it must serve HTTP (start-up does not
 * wait for Redis), report the bus not ready in /health, log a few lines rather than a stack trace
 * per reconnect, and end on one SIGTERM with exit code 0.
 */
describe('the sample app with an unreachable Redis', () => {
  let db: TestDatabase;
  let app: AppProcess | undefined;

  beforeAll(async () => {
    db = await createTestDatabase('app-redis-unreachable');
  });

  afterEach(() => {
    app?.killIfRunning();
    app = undefined;
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('serves HTTP, reports the bus not ready, and exits 0 on one SIGTERM', async () => {
    const [httpPort, deadRedisPort] = [await freePort(), await freePort()];
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PORT: String(httpPort),
      DATABASE_URL: db.url,
      REDIS_URL: `redis://127.0.0.1:${deadRedisPort}`,
    };
    for (const name of ['REDIS_HOST', 'REDIS_PORT', 'REDIS_PASSWORD', 'QUEUE_BACKEND']) delete env[name];
    app = startAppProcess(SAMPLE_APP, env);
    const { child, exited } = app;
    await app.waitForOutput('Ready on', 60_000);

    const health = await fetch(`http://127.0.0.1:${httpPort}/health`);
    expect(health.status).toBe(503);
    const body = (await health.json()) as { error?: Record<string, { status: string }> };
    expect(body.error?.eventBus?.status).toBe('down');
    // No stack trace per reconnect attempt.
    expect(app.output()).not.toMatch(/^\s+at /m);

    child.kill('SIGTERM');
    const [code, signal] = await exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
  }, 90_000);
});
