import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Inject, Injectable, Module, Optional, type INestApplication, type ModuleMetadata } from '@nestjs/common';
import { getQueueToken } from '@nestjs/bullmq';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { Queue } from 'bullmq';
import {
  BullMQEventBus,
  EVENT_BUS_QUEUE,
  EventBus,
  EventBusConfigurationError,
  EventBusModule,
  EventStore,
  InvalidEventPatternError,
  OnEvent,
  PersistentEventStore,
  SubscriptionManager,
  type EventBusModuleOptions,
  type EventContext,
  type StoredEvent,
} from '@app/event-bus';
import {
  createTestDatabase,
  testRedisConnection,
  uniquePrefix,
  waitFor,
  type TestDatabase,
} from '../support/database.js';
import { redisAvailable } from '../support/environment.js';
import { describeIfRunnable } from '../support/runnable.js';

const TENANT = '3f2b8c1e-5d4a-4c3b-9e2f-1a0b9c8d7e6f';
const silentLogger = { log: () => undefined, error: () => undefined, warn: () => undefined, debug: () => undefined };

@Injectable()
class RecordingHandlers {
  readonly received: Array<{ event: StoredEvent; context: EventContext }> = [];

  @OnEvent('module.test.*')
  onEvent(event: StoredEvent, context: EventContext): void {
    this.received.push({ event, context });
  }
}

/** Stands in for a host app's configuration module, for forRootAsync. */
const CONFIG = Symbol('CONFIG');
@Module({
  providers: [{ provide: CONFIG, useFactory: () => ({ prefix: uniquePrefix('module-async') }) }],
  exports: [CONFIG],
})
class FakeConfigModule {}

/** A feature module that injects the bus without importing EventBusModule (it is global). */
@Injectable()
class FeatureService {
  constructor(
    @Optional() @Inject(EventBus) readonly bus: EventBus | undefined,
    @Optional() @Inject(EventStore) readonly store: EventStore | undefined,
  ) {}
}
@Module({ providers: [FeatureService] })
class FeatureModule {}

let db: TestDatabase;
let app: INestApplication | undefined;

beforeAll(async () => {
  db = await createTestDatabase('event-bus-module');
});

afterEach(async () => {
  await app?.close();
  app = undefined;
});

afterAll(async () => {
  await db?.drop();
});

/** The host app's TypeORM setup: entities found through forFeature, schema from the test helper's migrations. */
function typeOrm(name?: string) {
  return TypeOrmModule.forRoot({
    name,
    type: 'postgres',
    url: db.url,
    autoLoadEntities: true,
    synchronize: false,
    migrationsRun: false,
    installExtensions: false,
    poolSize: 4,
  });
}

/**
 * TypeORM on the test helper's own DataSource, for start-ups that fail in the middle of compiling:
 * no app exists to close then, so a DataSource built by TypeOrmModule would stay open.
 */
function sharedTypeOrm() {
  return TypeOrmModule.forRootAsync({
    useFactory: () => ({
      type: 'postgres',
      url: db.url,
      autoLoadEntities: true,
      synchronize: false,
      migrationsRun: false,
    }),
    dataSourceFactory: async () => db.dataSource,
  });
}

async function boot(metadata: ModuleMetadata): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule(metadata).compile();
  app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  return app;
}

async function publishAndAwaitDelivery(nest: INestApplication, type: string): Promise<StoredEvent> {
  const bus = nest.get(EventBus);
  const handlers = nest.get(RecordingHandlers);
  const published = await bus.publish({ type, tenantId: TENANT, payload: { n: 1 } });
  await waitFor(() => handlers.received.some(({ event }) => event.id === published.id), {
    message: `delivery of ${type} to RecordingHandlers.onEvent`,
  });
  await waitFor(async () => (await nest.get(EventStore).findById(published.id))?.status === 'processed', {
    message: `${type} to be processed`,
  });
  return published;
}

function redisOptions(suite: string): EventBusModuleOptions {
  return {
    connection: testRedisConnection(),
    prefix: uniquePrefix(suite),
    queueName: `module-${suite}`,
    logger: silentLogger,
  };
}

describeIfRunnable('EventBusModule on Redis', redisAvailable() ? undefined : 'Redis is not available')(
  'EventBusModule on Redis',
  () => {
    it('forRoot boots with TypeORM, resolves EventBus and EventStore by type, and delivers to @OnEvent handlers', async () => {
      const nest = await boot({
        imports: [typeOrm(), EventBusModule.forRoot(redisOptions('for-root'))],
        providers: [RecordingHandlers],
      });

      expect(nest.get(EventBus)).toBeInstanceOf(BullMQEventBus);
      expect(nest.get(EventStore)).toBeInstanceOf(PersistentEventStore);
      const handler = nest.get(SubscriptionManager).get('RecordingHandlers.onEvent');
      expect(handler).toMatchObject({ source: 'decorator', patterns: ['module.test.*'] });
      const queue = nest.get<Queue>(getQueueToken(EVENT_BUS_QUEUE));
      expect(queue.name).toBe('module-for-root');

      const published = await publishAndAwaitDelivery(nest, 'module.test.started');
      const [delivery] = nest.get(RecordingHandlers).received;
      expect(delivery.event.id).toBe(published.id);
      expect(delivery.context).toMatchObject({ attempt: 1, replay: false, handler: 'RecordingHandlers.onEvent' });
    });

    it('forRootAsync takes its options from an injected provider', async () => {
      const nest = await boot({
        imports: [
          typeOrm(),
          EventBusModule.forRootAsync({
            imports: [FakeConfigModule],
            inject: [CONFIG],
            useFactory: (config: { prefix: string }) => ({
              connection: testRedisConnection(),
              prefix: config.prefix,
              queueName: 'module-for-root-async',
              concurrency: 2,
              logger: silentLogger,
            }),
          }),
        ],
        providers: [RecordingHandlers],
      });

      expect(nest.get(EventBus)).toBeInstanceOf(BullMQEventBus);
      expect(nest.get(EventStore)).toBeInstanceOf(PersistentEventStore);
      expect(nest.get<Queue>(getQueueToken(EVENT_BUS_QUEUE)).name).toBe('module-for-root-async');
      await publishAndAwaitDelivery(nest, 'module.test.async');
    });

    it('uses a named TypeORM data source and is global by default', async () => {
      const nest = await boot({
        imports: [
          typeOrm('events'),
          EventBusModule.forRoot({ ...redisOptions('named'), dataSource: 'events' }),
          FeatureModule,
        ],
        providers: [RecordingHandlers],
      });
      const feature = nest.get(FeatureService);
      expect(feature.bus).toBe(nest.get(EventBus));
      expect(feature.store).toBeInstanceOf(PersistentEventStore);
      await publishAndAwaitDelivery(nest, 'module.test.named');
    });

    it('is not global with isGlobal: false', async () => {
      const nest = await boot({
        imports: [typeOrm(), EventBusModule.forRoot({ ...redisOptions('local'), isGlobal: false }), FeatureModule],
      });
      expect(nest.get(FeatureService).bus).toBeUndefined();
      expect(nest.get(EventBus)).toBeInstanceOf(BullMQEventBus);
    });

    it('closes the bus and the queue it built on shutdown', async () => {
      const nest = await boot({
        imports: [typeOrm(), EventBusModule.forRoot(redisOptions('shutdown'))],
        providers: [RecordingHandlers],
      });
      const bus = nest.get(EventBus);
      const queue = nest.get<Queue>(getQueueToken(EVENT_BUS_QUEUE));
      await nest.close();
      app = undefined;
      await expect(bus.publish({ type: 'module.test.late', tenantId: TENANT, payload: null })).rejects.toThrow();
      expect(queue.closing).toBeDefined();
    });
  },
);

describe('EventBusModule on the PostgreSQL queue backend', () => {
  it('boots and delivers with backend: postgres (no Redis involved)', async () => {
    const nest = await boot({
      imports: [
        typeOrm(),
        EventBusModule.forRoot({ backend: 'postgres', queueName: 'module-postgres', logger: silentLogger }),
      ],
      providers: [RecordingHandlers],
    });
    expect(nest.get(EventBus)).toBeInstanceOf(BullMQEventBus);
    await publishAndAwaitDelivery(nest, 'module.test.postgres');
  });
});

describe('EventBusModule start-up failures', () => {
  async function startUpError(metadata: ModuleMetadata): Promise<unknown> {
    return boot(metadata).then(
      () => new Error('expected start-up to fail'),
      (error: unknown) => error,
    );
  }

  it.each<[string, EventBusModuleOptions, string]>([
    ['concurrency 0', { concurrency: 0 }, 'Invalid event bus option "concurrency": must be a positive integer, got 0'],
    ['a non-Redis URL', { connection: 'http://cache:6379' }, 'Invalid event bus option "connection"'],
    ['an unknown backend', { backend: 'kafka' as 'redis' }, 'Invalid event bus option "backend"'],
    ['a misspelt option', { queuename: 'x' } as EventBusModuleOptions, 'Invalid event bus option "queuename"'],
    [
      'a bad default retry',
      { defaultRetry: { maxAttempts: 0, backoff: { type: 'fixed', delay: 1 } } },
      '"defaultRetry.maxAttempts"',
    ],
  ])('forRoot with %s fails, naming the option', async (_label, options, message) => {
    const error = await startUpError({
      imports: [typeOrm(), EventBusModule.forRoot({ logger: silentLogger, ...options })],
    });
    expect(error).toBeInstanceOf(EventBusConfigurationError);
    expect((error as Error).message).toContain(message);
  });

  it('forRootAsync with a bad option fails, naming the option', async () => {
    const error = await startUpError({
      imports: [
        sharedTypeOrm(),
        EventBusModule.forRootAsync({ useFactory: () => ({ logger: silentLogger, relay: { intervalMs: -5 } }) }),
      ],
    });
    expect(error).toBeInstanceOf(EventBusConfigurationError);
    expect((error as Error).message).toContain('Invalid event bus option "relay.intervalMs"');
  });

  it('an invalid @OnEvent pattern fails start-up, naming the method', async () => {
    @Injectable()
    class BadHandlers {
      @OnEvent('module.test*')
      handle(): void {}
    }
    const error = await startUpError({
      imports: [
        typeOrm(),
        EventBusModule.forRoot({ backend: 'postgres', queueName: 'module-bad-pattern', logger: silentLogger }),
      ],
      providers: [BadHandlers],
    });
    expect(error).toBeInstanceOf(InvalidEventPatternError);
    expect((error as Error).message).toContain('BadHandlers.handle');
  });
});
