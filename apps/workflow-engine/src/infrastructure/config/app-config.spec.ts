import { describe, expect, it } from '@jest/globals';
import { DEFAULT_TENANT_ID, loadConfig } from './app-config.js';

describe('loadConfig', () => {
  it('defaults to the embedded database and the PostgreSQL queue backend', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 3000,
      databaseUrl: undefined,
      embedded: { port: 0, database: 'workflow_engine' },
      queue: { backend: 'postgres' },
      queueName: 'workflow-events',
      queuePrefix: 'bull',
      concurrency: 10,
      tenantId: DEFAULT_TENANT_ID,
      nodeRetry: { maxAttempts: 3, backoff: { type: 'exponential', delay: 1000 } },
      demo: { slowNodeMs: 3000, flakyFailures: 3 },
    });
    expect(config.embedded.dataDir).toMatch(/\.data\/postgres$/);
  });

  it('uses Redis when REDIS_URL or the original REDIS_HOST/PORT/PASSWORD name one', () => {
    expect(loadConfig({ REDIS_URL: 'redis://:secret@cache:6380' }).queue).toEqual({
      backend: 'redis',
      connection: { url: 'redis://:secret@cache:6380' },
      source: 'Redis at redis://:***@cache:6380',
    });
    expect(loadConfig({ REDIS_HOST: 'cache', REDIS_PORT: '6380', REDIS_PASSWORD: 'secret' }).queue).toMatchObject({
      backend: 'redis',
      connection: { host: 'cache', port: 6380, password: 'secret' },
    });
    expect(loadConfig({ REDIS_URL: 'redis://cache', QUEUE_BACKEND: 'postgres' }).queue.backend).toBe('postgres');
  });

  it('reads every knob', () => {
    const config = loadConfig({
      PORT: '8080',
      DATABASE_URL: 'postgres://app@db:5432/events',
      EMBEDDED_POSTGRES_PORT: '54329',
      EVENT_QUEUE_NAME: 'wf',
      EVENT_QUEUE_PREFIX: '{wf}',
      WORKER_CONCURRENCY: '4',
      TENANT_ID: 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11',
      NODE_MAX_ATTEMPTS: '5',
      NODE_RETRY_DELAY_MS: '10',
      SLOW_NODE_MS: '0',
      FLAKY_NODE_FAILURES: '1',
    });
    expect(config).toMatchObject({
      port: 8080,
      databaseUrl: 'postgres://app@db:5432/events',
      embedded: { port: 54329 },
      queueName: 'wf',
      queuePrefix: '{wf}',
      concurrency: 4,
      tenantId: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
      nodeRetry: { maxAttempts: 5, backoff: { type: 'exponential', delay: 10 } },
      demo: { slowNodeMs: 0, flakyFailures: 1 },
    });
  });

  it.each([
    [{ PORT: 'eighty' }, "PORT must be an integer from 0 to 65535, got 'eighty'"],
    [{ NODE_MAX_ATTEMPTS: '0' }, "NODE_MAX_ATTEMPTS must be an integer from 1 to 100, got '0'"],
    [{ DATABASE_URL: 'mysql://db/x' }, 'DATABASE_URL must start with postgres:// or postgresql://'],
    [{ REDIS_URL: 'not a url' }, 'REDIS_URL is not a valid URL'],
    [{ QUEUE_BACKEND: 'kafka' }, "QUEUE_BACKEND must be 'redis' or 'postgres', got 'kafka'"],
    [{ TENANT_ID: 'acme' }, "TENANT_ID must be a UUID, got 'acme'"],
  ])('refuses %j naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(`Configuration: ${message}.`);
  });
});
