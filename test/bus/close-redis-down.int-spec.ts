import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Redis } from 'ioredis';
import { EventBus, EventBusModule } from '@app/event-bus';
import { createTestDatabase, uniquePrefix, waitFor, type TestDatabase } from '../support/database.js';
import { CapturingLogger, createTestBus, type TestBus } from '../support/bus.js';
import { servicesRequired } from '../support/environment.js';
import { redisServerUnavailable, startOwnRedisServer, type OwnRedisServer } from '../support/redis-server.js';
import { describeIfRunnable } from '../support/runnable.js';
import { allProcessed, eventRows, newEvent } from './bus-fixtures.js';

const unavailable = redisServerUnavailable();
if (unavailable && servicesRequired()) throw new Error(`EVENT_BUS_REQUIRE_SERVICES=1 but ${unavailable}`);

type Outage = 'killed' | 'frozen';

/**
 * `close()` while Redis does not answer: it must resolve (Jest's timeout is the bound) and leave no
 * connection behind. Each test has a Redis server of its own (a child process): killed, Redis
 * refuses connections; frozen (SIGSTOP), it accepts bytes and never answers — the harder case.
 */
describeIfRunnable('close with Redis down', unavailable)('close() while Redis is down', () => {
  let db: TestDatabase;
  let redis: OwnRedisServer | undefined;
  let frozenPid: number | undefined;

  beforeAll(async () => {
    db = await createTestDatabase('bus-close-redis-down');
  });

  afterAll(async () => {
    await db?.drop();
  });

  /** A bus (worker and relay) on a Redis of its own, not yet initialized: the test subscribes first. */
  async function runningBus(): Promise<{ t: TestBus; server: OwnRedisServer }> {
    const server = await startOwnRedisServer();
    redis = server;
    const t = await createTestBus({
      db,
      backend: 'redis',
      suite: 'close-redis-down',
      connection: { host: '127.0.0.1', port: server.port },
      enqueueTimeoutMs: 1000,
      initialize: false,
    });
    return { t, server };
  }

  /** Makes Redis stop answering: SIGKILL (connections refused) or SIGSTOP (connections hang). */
  async function takeDown(server: OwnRedisServer, outage: Outage): Promise<void> {
    if (outage === 'killed') {
      await server.stop();
      return;
    }
    const admin = new Redis({ host: '127.0.0.1', port: server.port, lazyConnect: true });
    try {
      await admin.connect();
      const info = await admin.info('server');
      frozenPid = Number(/process_id:(\d+)/.exec(info)?.[1]);
    } finally {
      admin.disconnect();
    }
    process.kill(frozenPid, 'SIGSTOP');
  }

  async function cleanUp(): Promise<void> {
    if (frozenPid !== undefined) process.kill(frozenPid, 'SIGCONT');
    frozenPid = undefined;
    await redis?.stop();
    redis = undefined;
  }

  /** Open sockets to this port (the sanity check of "nothing is left open"). */
  function socketsTo(port: number): number {
    const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
    return handles.filter((handle) => (handle as { remotePort?: number }).remotePort === port).length;
  }

  it.each<Outage>(['killed', 'frozen'])('an idle bus closes when Redis is %s', async (outage) => {
    const { t, server } = await runningBus();
    try {
      await t.bus.subscribe('**', async () => undefined, { name: 'noop' });
      await t.bus.initialize();
      const warm = await t.bus.publish(newEvent());
      await waitFor(() => allProcessed(db, [warm.id]), { message: 'a delivery before the outage' });
      expect(socketsTo(server.port)).toBeGreaterThan(0);

      await takeDown(server, outage);
      await t.bus.close();

      expect(socketsTo(server.port)).toBe(0);
    } finally {
      await cleanUp();
    }
  });

  it.each<Outage>(['killed', 'frozen'])(
    'close() waits for a running handler, then closes although Redis is %s',
    async (outage) => {
      const { t, server } = await runningBus();
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let started = false;
      let finished = false;
      try {
        await t.bus.subscribe(
          'workflow.node.triggered',
          async () => {
            started = true;
            await held;
            finished = true;
          },
          { name: 'held' },
        );
        await t.bus.initialize();
        const event = await t.bus.publish(newEvent());
        await waitFor(() => started, { message: 'the handler started' });

        await takeDown(server, outage);
        const closing = t.bus.close();
        release();
        await closing;

        expect(finished).toBe(true);
        // The status is PostgreSQL's: committed before the job would complete in the (dead) queue.
        expect((await eventRows(db, [event.id]))[0]?.status).toBe('processed');
        expect(socketsTo(server.port)).toBe(0);
      } finally {
        await cleanUp();
      }
    },
  );

  it.each<Outage>(['killed', 'frozen'])('a Nest application closes when Redis is %s', async (outage) => {
    const server = await startOwnRedisServer();
    redis = server;
    const logger = new CapturingLogger('EventBusModule:close-redis-down');
    const moduleRef = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot({ type: 'postgres', url: db.url, autoLoadEntities: true, poolSize: 2 }),
        EventBusModule.forRoot({
          connection: { host: '127.0.0.1', port: server.port },
          prefix: uniquePrefix('close-redis-down'),
          queueName: 'module-close-redis-down',
          enqueueTimeoutMs: 1000,
          logger,
        }),
      ],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    try {
      await app.init();
      const event = await app.get(EventBus).publish(newEvent());
      expect(event.metadata?.jobId).toBe(event.id);
      expect(socketsTo(server.port)).toBeGreaterThan(0);

      await takeDown(server, outage);
      await app.close();

      expect(socketsTo(server.port)).toBe(0);
      expect(logger.find('warn', 'The event queue "module-close-redis-down" did not close cleanly')).toHaveLength(1);
    } finally {
      await cleanUp();
    }
  });
});
