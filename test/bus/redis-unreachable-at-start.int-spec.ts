import { afterAll, afterEach, beforeAll, expect, it } from '@jest/globals';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { INestApplication } from '@nestjs/common';
import { EventBus, EventBusModule } from '@app/event-bus';
import { CapturingLogger, createTestBus, type TestBus } from '../support/bus.js';
import { createTestDatabase, uniquePrefix, waitFor, type TestDatabase } from '../support/database.js';
import { servicesRequired } from '../support/environment.js';
import { redisServerUnavailable, startOwnRedisServer, type OwnRedisServer } from '../support/redis-server.js';
import { describeIfRunnable } from '../support/runnable.js';
import { allProcessed, newEvent } from './bus-fixtures.js';

const unavailable = redisServerUnavailable();
if (unavailable && servicesRequired()) throw new Error(`EVENT_BUS_REQUIRE_SERVICES=1 but ${unavailable}`);

/**
 * A Redis address nothing listens on at start-up (Redis not up yet, or a wrong port): start-up must
 * not wait for it, the log must stay short (one line per attempt, growing intervals, no stack
 * traces), `close()` must settle, and once a Redis appears at that address the bus consumes.
 */
describeIfRunnable('Redis unreachable at start-up', unavailable)(
  'a bus whose Redis does not answer at start-up',
  () => {
    let db: TestDatabase;
    let redis: OwnRedisServer | undefined;
    let bus: TestBus | undefined;
    let app: INestApplication | undefined;

    beforeAll(async () => {
      db = await createTestDatabase('redis-unreachable-at-start');
    });

    afterEach(async () => {
      await app?.close();
      app = undefined;
      // The test bus empties its queue on close, which needs the Redis it was given.
      if (bus && redis && !redis.running) await redis.start();
      await bus?.close();
      bus = undefined;
      await redis?.stop();
      redis = undefined;
    });

    afterAll(async () => {
      await db?.drop();
    });

    it('starts without it, logs one short line per attempt, and consumes once Redis appears', async () => {
      redis = await startOwnRedisServer([], { start: false });
      bus = await createTestBus({
        db,
        backend: 'redis',
        suite: 'redis-unreachable-at-start',
        connection: { host: '127.0.0.1', port: redis.port },
        enqueueTimeoutMs: 500,
        initialize: false,
      });
      const delivered: string[] = [];
      await bus.bus.subscribe('workflow.node.triggered', async (event) => void delivered.push(event.id), {
        name: 'recorder',
      });

      await bus.bus.initialize();
      expect(bus.bus.readiness()).toMatchObject({ ready: false });
      // Publishing works meanwhile: the event is stored, and the relay enqueues it later.
      const event = await bus.bus.publish(newEvent());

      const attempts = (): number => bus!.logger.find('warn', 'still does not answer').length;
      await waitFor(() => attempts() >= 2, { timeoutMs: 15_000, message: 'two retry attempts logged' });
      // A handful of lines, not one (with a stack) per reconnect: the attempts, the first failure, and
      // what the relay and the worker say once each.
      const shown = bus.logger.lines.filter((line) => line.level !== 'debug' && line.level !== 'verbose');
      expect(shown.length).toBeLessThanOrEqual(attempts() + 6);

      await redis.start();
      await waitFor(() => allProcessed(db, [event.id]), { timeoutMs: 30_000, message: 'the event delivered' });
      expect(delivered).toEqual([event.id]);
      await waitFor(() => bus!.bus.readiness().ready, { message: 'the bus ready' });
    }, 60_000);

    it('closes at once when it never finished starting', async () => {
      redis = await startOwnRedisServer([], { start: false });
      bus = await createTestBus({
        db,
        backend: 'redis',
        suite: 'redis-unreachable-close',
        connection: { host: '127.0.0.1', port: redis.port },
        enqueueTimeoutMs: 500,
      });
      expect(bus.bus.readiness().ready).toBe(false);
      await bus.bus.close();
      expect(bus.bus.readiness()).toEqual({ ready: false, reason: 'the event bus is closed' });
    });

    it('lets a Nest application start and close', async () => {
      redis = await startOwnRedisServer([], { start: false });
      const logger = new CapturingLogger('EventBusModule:redis-unreachable');
      const moduleRef = await Test.createTestingModule({
        imports: [
          TypeOrmModule.forRoot({ type: 'postgres', url: db.url, autoLoadEntities: true, poolSize: 2 }),
          EventBusModule.forRoot({
            connection: { host: '127.0.0.1', port: redis.port },
            prefix: uniquePrefix('redis-unreachable-module'),
            enqueueTimeoutMs: 500,
            logger,
          }),
        ],
      }).compile();
      app = moduleRef.createNestApplication({ logger: false });
      await app.init();
      expect(app.get(EventBus).readiness().ready).toBe(false);
      await app.close();
      app = undefined;
      expect(logger.find('error', 'Event worker error')).toEqual([]);
    });
  },
);
