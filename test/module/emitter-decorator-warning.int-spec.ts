import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable, type INestApplication, type ModuleMetadata } from '@nestjs/common';
import { EventEmitterModule, OnEvent as OnEmitterEvent } from '@nestjs/event-emitter';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EventBusModule, OnEvent } from '@app/event-bus';
import { CapturingLogger } from '../support/bus.js';
import { createTestDatabase, testRedisConnection, uniquePrefix, type TestDatabase } from '../support/database.js';

const WARNING = "from '@nestjs/event-emitter', but this app has no EventEmitterModule";

/** Imported by mistake from the in-process emitter, in an app without it: never called. */
@Injectable()
class MistakenListener {
  @OnEmitterEvent('workflow.started')
  onStarted(): void {}
}

@Injectable()
class DurableListener {
  @OnEvent('workflow.started')
  onStarted(): void {}
}

/** Uses both libraries on purpose: in-process events through the emitter, durable ones through the bus. */
@Injectable()
class BothListener {
  @OnEmitterEvent('cache.invalidated')
  onCacheInvalidated(): void {}

  @OnEvent('workflow.completed')
  onCompleted(): void {}
}

/**
 * Both libraries export a decorator named `OnEvent`. An app with this module whose provider uses the
 * emitter's, and has no `EventEmitterModule`, is told at start-up which method will never be called.
 */
describe("the warning about @nestjs/event-emitter's @OnEvent", () => {
  let db: TestDatabase;
  let app: INestApplication | undefined;

  beforeAll(async () => {
    db = await createTestDatabase('emitter-decorator-warning');
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  afterAll(async () => {
    await db?.drop();
  });

  async function start(metadata: ModuleMetadata): Promise<CapturingLogger> {
    const logger = new CapturingLogger('EventBusModule:emitter-decorator');
    const moduleRef = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot({ type: 'postgres', url: db.url, autoLoadEntities: true, poolSize: 2 }),
        EventBusModule.forRoot({
          connection: testRedisConnection(),
          prefix: uniquePrefix('emitter-decorator'),
          worker: false,
          logger,
        }),
        ...(metadata.imports ?? []),
      ],
      providers: metadata.providers,
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    return logger;
  }

  it('names the method when the app has no EventEmitterModule', async () => {
    const logger = await start({ providers: [MistakenListener, DurableListener] });
    const warnings = logger.find('warn', WARNING);
    expect(warnings).toHaveLength(1);
    expect(warnings[0].message).toContain('MistakenListener.onStarted is decorated with @OnEvent');
    expect(warnings[0].message).not.toContain('DurableListener');
    expect(warnings[0].message).toContain("import OnEvent from 'nestjs-durable-events'");
  });

  it('says nothing when the app has EventEmitterModule', async () => {
    const logger = await start({ imports: [EventEmitterModule.forRoot()], providers: [BothListener] });
    expect(logger.lines.filter((line) => line.level === 'warn' && line.message.includes('event-emitter'))).toEqual([]);
    // The bus's own handler on the same class is still found.
    expect(logger.find('log', 'BothListener.onCompleted')).toHaveLength(1);
  });

  it("says nothing when every handler uses the bus's @OnEvent", async () => {
    const logger = await start({ providers: [DurableListener] });
    expect(logger.find('warn', WARNING)).toEqual([]);
  });
});
