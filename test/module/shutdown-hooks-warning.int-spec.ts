import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EventBusModule, type EventBusModuleOptions } from '@app/event-bus';
import { CapturingLogger } from '../support/bus.js';
import {
  createTestDatabase,
  testRedisConnection,
  uniquePrefix,
  waitFor,
  type TestDatabase,
} from '../support/database.js';

const WARNING = 'nothing handles SIGTERM';

/**
 * A consuming process whose app never called `enableShutdownHooks()` is killed mid-handler by a
 * stop or a deploy: the module says so once at start-up. Publish-only processes are not warned.
 */
describe('the warning about shutdown hooks', () => {
  let db: TestDatabase;
  let app: INestApplication | undefined;

  beforeAll(async () => {
    db = await createTestDatabase('shutdown-hooks-warning');
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  afterAll(async () => {
    await db?.drop();
  });

  async function start(options: Partial<EventBusModuleOptions>, hooks: boolean): Promise<CapturingLogger> {
    const logger = new CapturingLogger('EventBusModule:shutdown-hooks');
    const moduleRef = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot({ type: 'postgres', url: db.url, autoLoadEntities: true, poolSize: 2 }),
        EventBusModule.forRoot({
          connection: testRedisConnection(),
          prefix: uniquePrefix('shutdown-hooks'),
          logger,
          ...options,
        }),
      ],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    if (hooks) app.enableShutdownHooks(['SIGTERM']);
    await app.init();
    // The check runs a moment after start-up (see event-bus.lifecycle.ts); it logs either way.
    await waitFor(() => logger.find('warn', WARNING).length + logger.find('debug', 'SIGTERM is handled').length > 0, {
      message: 'the shutdown hooks check',
    });
    return logger;
  }

  it('warns once, saying what happens to running handlers, when a worker has none', async () => {
    expect(process.listenerCount('SIGTERM')).toBe(0);
    const logger = await start({}, false);
    const warnings = logger.find('warn', WARNING);
    expect(warnings).toHaveLength(1);
    expect(warnings[0].message).toContain('app.enableShutdownHooks()');
    expect(warnings[0].message).toContain('running handlers');
  });

  it('says nothing when enableShutdownHooks() was called', async () => {
    const logger = await start({}, true);
    expect(logger.find('warn', WARNING)).toEqual([]);
  });

  it('says nothing in a publish-only process', async () => {
    const logger = new CapturingLogger('EventBusModule:shutdown-hooks');
    const moduleRef = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot({ type: 'postgres', url: db.url, autoLoadEntities: true, poolSize: 2 }),
        EventBusModule.forRoot({
          connection: testRedisConnection(),
          prefix: uniquePrefix('shutdown-hooks'),
          worker: false,
          logger,
        }),
      ],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    // A publish-only process schedules no check at all: nothing to wait for.
    expect(logger.find('warn', WARNING)).toEqual([]);
  });

  it('sees hooks enabled right after createApplicationContext(), which bootstraps before it resolves', async () => {
    const logger = new CapturingLogger('EventBusModule:shutdown-hooks');
    @Module({
      imports: [
        TypeOrmModule.forRoot({ type: 'postgres', url: db.url, autoLoadEntities: true, poolSize: 2 }),
        EventBusModule.forRoot({ connection: testRedisConnection(), prefix: uniquePrefix('shutdown-hooks'), logger }),
      ],
    })
    class ContextModule {}
    const context = await NestFactory.createApplicationContext(ContextModule, { logger: false });
    context.enableShutdownHooks(['SIGTERM']);
    try {
      await waitFor(() => logger.find('debug', 'SIGTERM is handled').length > 0, { message: 'the check' });
      expect(logger.find('warn', WARNING)).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
