import { describe, expect, it } from '@jest/globals';
import { EventBusConfigurationError } from '../shared/errors.js';
import type { EventBusCoreOptions } from './event-bus.options.js';
import { validateEventBusOptions } from './event-bus.options.validation.js';

const logger = { log: () => undefined, error: () => undefined, warn: () => undefined };

function rejection(options: unknown): EventBusConfigurationError {
  try {
    validateEventBusOptions(options as EventBusCoreOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(EventBusConfigurationError);
    return error as EventBusConfigurationError;
  }
  throw new Error(`expected ${JSON.stringify(options)} to be refused`);
}

describe('validateEventBusOptions', () => {
  it.each<[string, EventBusCoreOptions]>([
    ['no options', {}],
    ['a Redis URL', { connection: 'redis://:secret@cache.internal:6380/2' }],
    ['a TLS Redis URL object', { connection: { url: 'rediss://cache.internal' } }],
    [
      'host, port and password',
      { connection: { host: 'cache', port: 6379, password: 'pw', username: 'u', db: 0, tls: true } },
    ],
    [
      'every option',
      {
        connection: { host: '127.0.0.1', port: 6379 },
        queueName: 'workflow-events',
        prefix: '{workflow-events}',
        concurrency: 4,
        prefetch: 0,
        defaultRetry: { maxAttempts: 5, backoff: { type: 'exponential', delay: 100, maxDelay: 10_000, jitter: 0.5 } },
        worker: false,
        backend: 'postgres',
        postgres: { connectionString: 'postgresql://postgres@127.0.0.1:5432/app', schema: 'bullmq_events' },
        maxPayloadBytes: 65_536,
        workerOptions: { lockDuration: 10_000, stalledInterval: 5_000, maxStalledCount: 0, drainDelay: 5 },
        enqueueTimeoutMs: 500,
        storeTimeoutMs: 1000,
        shutdownTimeoutMs: 0,
        relay: { enabled: true, intervalMs: 100, batchSize: 50, graceMs: 0, lostJobCheckIntervalMs: 1000 },
        logger,
      },
    ],
    ['relay turned off', { relay: false }],
    ['a backoff function', { defaultRetry: { maxAttempts: 2, backoff: () => 10 } }],
    ['undefined values (left to defaults)', { concurrency: undefined, connection: undefined }],
  ])('accepts %s and returns the options', (_label, options) => {
    expect(validateEventBusOptions(options)).toBe(options);
  });

  it.each<[string, unknown, string, string]>([
    // [label, options, option named, part of the message]
    ['options that are not an object', 'redis://x', 'options', 'must be an object'],
    ['null options', null, 'options', 'got null'],
    ['a misspelt option', { queuename: 'x' }, 'queuename', 'is not an option of the event bus'],
    ['concurrency 0', { concurrency: 0 }, 'concurrency', 'must be a positive integer, got 0'],
    ['concurrency 2.5', { concurrency: 2.5 }, 'concurrency', 'got 2.5'],
    ['concurrency as text', { concurrency: '4' }, 'concurrency', "got '4'"],
    ['a negative prefetch', { prefetch: -1 }, 'prefetch', 'got -1'],
    ['prefetch 1.5', { prefetch: 1.5 }, 'prefetch', 'got 1.5'],
    ['an empty queue name', { queueName: '' }, 'queueName', 'non-empty string'],
    ["a queue name with ':'", { queueName: 'a:b' }, 'queueName', "must not contain ':'"],
    ['an empty prefix', { prefix: ' ' }, 'prefix', 'non-empty string'],
    ['worker as text', { worker: 'yes' }, 'worker', 'must be true or false'],
    ['an unknown backend', { backend: 'kafka' }, 'backend', "must be 'redis' or 'postgres', got 'kafka'"],
    [
      'a bad defaultRetry',
      { defaultRetry: { maxAttempts: 0, backoff: { type: 'fixed', delay: 1 } } },
      'defaultRetry.maxAttempts',
      'positive integer',
    ],
    [
      'a bad defaultRetry backoff',
      { defaultRetry: { maxAttempts: 3, backoff: { type: 'fixed', delay: -5 } } },
      'defaultRetry.backoff.delay',
      'got -5',
    ],
    ['maxPayloadBytes 0', { maxPayloadBytes: 0 }, 'maxPayloadBytes', 'positive integer'],
    [
      'handlerTimeoutMs 0',
      { handlerTimeoutMs: 0 },
      'handlerTimeoutMs',
      'must be a positive integer of milliseconds (at most 2147483647), got 0',
    ],
    ['jobBatchSize 0', { jobBatchSize: 0 }, 'jobBatchSize', 'positive integer, got 0'],
    ['jobBatchSize 1.5', { jobBatchSize: 1.5 }, 'jobBatchSize', 'got 1.5'],
    ['jobBatchSize over the bound', { jobBatchSize: 1001 }, 'jobBatchSize', 'must be at most 1000, got 1001'],
    ['enqueueTimeoutMs negative', { enqueueTimeoutMs: -1 }, 'enqueueTimeoutMs', 'got -1'],
    ['enqueueTimeoutMs Infinity', { enqueueTimeoutMs: Infinity }, 'enqueueTimeoutMs', 'got Infinity'],
    ['storeTimeoutMs 0', { storeTimeoutMs: 0 }, 'storeTimeoutMs', 'positive integer, got 0'],
    ['storeTimeoutMs as text', { storeTimeoutMs: '5s' }, 'storeTimeoutMs', "got '5s'"],
    ['shutdownTimeoutMs negative', { shutdownTimeoutMs: -1 }, 'shutdownTimeoutMs', 'got -1'],
    ['shutdownTimeoutMs as text', { shutdownTimeoutMs: '10s' }, 'shutdownTimeoutMs', "got '10s'"],
    ['a connection number', { connection: 6379 }, 'connection', 'must be a Redis URL'],
    [
      'a non-Redis URL',
      { connection: 'http://cache:6379' },
      'connection',
      'must be a URL starting with redis:// or rediss://, got http://',
    ],
    ['an unparsable URL', { connection: 'not a url' }, 'connection', 'is not a valid URL'],
    ['a bad url field', { connection: { url: 'postgres://x' } }, 'connection.url', 'redis://'],
    ['port 0', { connection: { port: 0 } }, 'connection.port', 'from 1 to 65535, got 0'],
    ['port 70000', { connection: { port: 70000 } }, 'connection.port', 'got 70000'],
    ['port as text', { connection: { port: '6379' } }, 'connection.port', "got '6379'"],
    ['an empty host', { connection: { host: '' } }, 'connection.host', 'non-empty string'],
    ['a negative db', { connection: { db: -1 } }, 'connection.db', 'integer >= 0, got -1'],
    ['tls as text', { connection: { tls: 'yes' } }, 'connection.tls', 'true, false or an object'],
    [
      'a misspelt connection field',
      { connection: { hostname: 'cache' } },
      'connection.hostname',
      'not a known setting',
    ],
    [
      'a non-string password',
      { connection: { password: 1234 } },
      'connection.password',
      'must be a string, got number',
    ],
    ['postgres as text', { postgres: 'postgres://x' }, 'postgres', 'must be an object'],
    [
      'a non-PostgreSQL connection string',
      { postgres: { connectionString: 'redis://x' } },
      'postgres.connectionString',
      'postgres:// or postgresql://',
    ],
    ['a bad schema name', { postgres: { schema: 'bull-mq' } }, 'postgres.schema', 'PostgreSQL identifier'],
    ['workerOptions as a number', { workerOptions: 5 }, 'workerOptions', 'must be an object'],
    ['lockDuration 0', { workerOptions: { lockDuration: 0 } }, 'workerOptions.lockDuration', 'positive integer'],
    [
      'stalledInterval as text',
      { workerOptions: { stalledInterval: '30s' } },
      'workerOptions.stalledInterval',
      "got '30s'",
    ],
    ['maxStalledCount negative', { workerOptions: { maxStalledCount: -1 } }, 'workerOptions.maxStalledCount', 'got -1'],
    [
      'concurrency inside workerOptions',
      { workerOptions: { concurrency: 3 } },
      'workerOptions.concurrency',
      'top-level "concurrency"',
    ],
    [
      'a connection inside workerOptions',
      { workerOptions: { connection: {} } },
      'workerOptions.connection',
      'top-level "connection"',
    ],
    [
      'autorun inside workerOptions',
      { workerOptions: { autorun: false } },
      'workerOptions.autorun',
      'top-level "worker"',
    ],
    ['relay as text', { relay: 'on' }, 'relay', 'must be an object'],
    ['relay intervalMs 0', { relay: { intervalMs: 0 } }, 'relay.intervalMs', 'positive integer'],
    ['relay batchSize 1.5', { relay: { batchSize: 1.5 } }, 'relay.batchSize', 'got 1.5'],
    ['relay graceMs negative', { relay: { graceMs: -1 } }, 'relay.graceMs', 'got -1'],
    ['relay enabled as text', { relay: { enabled: 'no' } }, 'relay.enabled', 'true or false'],
    [
      'relay lostJobCheckIntervalMs 0',
      { relay: { lostJobCheckIntervalMs: 0 } },
      'relay.lostJobCheckIntervalMs',
      'got 0',
    ],
    ['a misspelt relay setting', { relay: { interval: 5 } }, 'relay.interval', 'not a known setting'],
    ['a logger without methods', { logger: {} }, 'logger', 'LoggerService'],
    ['console.log as logger', { logger: () => undefined }, 'logger', 'got a function'],
  ])('refuses %s, naming the option', (_label, options, option, message) => {
    const error = rejection(options);
    expect(error.option).toBe(option);
    expect(error.message).toContain(`Invalid event bus option "${option}"`);
    expect(error.message).toContain(message);
  });

  it('never echoes a password', () => {
    expect(rejection({ connection: { password: 987654 } }).message).not.toContain('987654');
    expect(rejection({ connection: 'redis//:hunter2@cache' }).message).not.toContain('hunter2');
    expect(rejection({ connection: 'http://:hunter2@cache' }).message).not.toContain('hunter2');
  });

  it.each<[string, unknown, string]>([
    ['a misspelt password', { connection: { pasword: 'hunter2' } }, 'connection.pasword'],
    ['an auth field', { connection: { auth: 'hunter2' } }, 'connection.auth'],
    ['an unknown top-level secret', { redisPassword: 'hunter2' }, 'redisPassword'],
    ['a misspelt PostgreSQL secret', { postgres: { password: 'hunter2' } }, 'postgres.password'],
    [
      'a connection URL inside workerOptions',
      { workerOptions: { connection: 'redis://:hunter2@cache' } },
      'workerOptions.connection',
    ],
    ['a misspelt relay setting holding a secret', { relay: { token: 'hunter2' } }, 'relay.token'],
  ])('names %s without echoing its value', (_label, options, option) => {
    const error = rejection(options);
    expect(error.option).toBe(option);
    expect(error.message).not.toContain('hunter2');
  });

  it.each<[string, unknown, string]>([
    ['a URL as the backend', { backend: 'redis://:hunter2@cache:6379' }, 'backend'],
    ['a URL with a user as the queue name', { queueName: 'redis://admin:hunter2@cache:6379' }, 'queueName'],
  ])('masks the credentials of %s given where they do not belong', (_label, options, option) => {
    const error = rejection(options);
    expect(error.option).toBe(option);
    expect(error.message).not.toContain('hunter2');
  });
});
