import { describe, expect, it } from '@jest/globals';
import { Queue, Worker } from 'bullmq';
import type { StoreConnectionSettings } from '../../../core/ports/delivery-ledger.js';
import { EventBusConfigurationError } from '../../../shared/errors.js';
import { postgresQueueConnection, redisConnectionOptions, resolveQueueBackend } from './queue-backend.js';

// Never initialized: these tests read the DataSource's options only.
/** The event store's connection settings, as its ledger gives them (store/typeorm/postgres-client-config.ts). */
const storeConnection = (): StoreConnectionSettings => ({
  host: 'db.internal',
  port: 5433,
  user: 'app',
  password: 'secret',
  database: 'events',
});

describe('redisConnectionOptions', () => {
  it('defaults to a local Redis', () => {
    expect(redisConnectionOptions(undefined, 'worker')).toEqual({
      host: '127.0.0.1',
      port: 6379,
      maxRetriesPerRequest: null,
    });
  });

  it("takes the seed's host/port/password shape", () => {
    expect(redisConnectionOptions({ host: 'redis', port: 6380, password: 'pw', db: 2 }, 'worker')).toEqual({
      host: 'redis',
      port: 6380,
      password: 'pw',
      db: 2,
      maxRetriesPerRequest: null,
    });
  });

  it('leaves out fields given as undefined (e.g. an unset REDIS_PASSWORD)', () => {
    expect(redisConnectionOptions({ host: 'redis', password: undefined }, 'worker')).not.toHaveProperty('password');
  });

  it('takes a URL string or { url }', () => {
    expect(redisConnectionOptions('rediss://:pw@cache:6390/1', 'worker')).toMatchObject({
      url: 'rediss://:pw@cache:6390/1',
    });
    expect(redisConnectionOptions({ url: 'redis://cache' }, 'worker')).toMatchObject({ url: 'redis://cache' });
  });

  it('turns tls: true into default TLS options', () => {
    expect(redisConnectionOptions({ tls: true }, 'worker').tls).toEqual({});
    expect(redisConnectionOptions({ tls: false }, 'worker')).not.toHaveProperty('tls');
  });

  it('gives the producer no offline queue, so enqueueing fails fast while Redis is away', () => {
    expect(redisConnectionOptions(undefined, 'producer')).toMatchObject({
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
    });
  });

  it('refuses a URL that is not a Redis URL, naming the option', () => {
    expect(() => redisConnectionOptions('http://cache', 'worker')).toThrow(EventBusConfigurationError);
    expect(() => redisConnectionOptions({ url: 'not a url' }, 'worker')).toThrow(/"connection"/);
  });

  it('never echoes a malformed URL, which may hold a password', () => {
    expect(() => redisConnectionOptions('redis://:hunter2@cache:port', 'worker')).toThrow(EventBusConfigurationError);
    expect(() => redisConnectionOptions('redis://:hunter2@cache:port', 'worker')).not.toThrow(/hunter2/);
  });
});

describe('postgresQueueConnection', () => {
  it("defaults to the event store's database, in BullMQ's own schema, migrating it", () => {
    expect(postgresQueueConnection({}, storeConnection)).toEqual({
      host: 'db.internal',
      port: 5433,
      user: 'app',
      password: 'secret',
      database: 'events',
      schema: 'bullmq',
      migrate: true,
    });
  });

  it('takes a connection string and a schema of its own', () => {
    expect(
      postgresQueueConnection({ postgres: { connectionString: 'postgres://q/db', schema: 'queues' } }, storeConnection),
    ).toEqual({
      connectionString: 'postgres://q/db',
      schema: 'queues',
      migrate: true,
    });
  });
});

describe('resolveQueueBackend', () => {
  it('is Redis by default, with BullMQ’s own classes and the default prefix', () => {
    const backend = resolveQueueBackend({}, storeConnection);
    expect(backend.kind).toBe('redis');
    expect(backend.QueueClass).toBe(Queue);
    expect(backend.WorkerClass).toBe(Worker);
    expect(backend.prefix).toBe('bull');
    expect(backend.workerConnection).toMatchObject({ maxRetriesPerRequest: null });
    expect(backend.producerConnection).toMatchObject({ enableOfflineQueue: false });
  });

  it('binds classes to the PostgreSQL backend without changing the process-wide default', () => {
    const backend = resolveQueueBackend({ backend: 'postgres' }, storeConnection);
    expect(backend.kind).toBe('postgres');
    expect(backend.prefix).toBeUndefined();
    expect(Object.getPrototypeOf(backend.WorkerClass)).toBe(Worker);
    expect(Object.getPrototypeOf(backend.QueueClass)).toBe(Queue);
    expect(resolveQueueBackend({}, storeConnection).QueueClass).toBe(Queue);
  });

  it('refuses an unknown backend, naming the option', () => {
    expect(() => resolveQueueBackend({ backend: 'kafka' as 'redis' }, storeConnection)).toThrow(/"backend"/);
  });
});
