import { afterEach, describe, expect, it } from '@jest/globals';
import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { Test, type TestingModule } from '@nestjs/testing';
import { EventBus } from '../core/event-bus.js';
import { EventBusHealthIndicator } from '../nest/event-bus.health-indicator.js';
import { EventBusTestingModule } from './event-bus-testing.module.js';

/** A user's health endpoint, as the README shows it. */
@Controller('health')
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly eventBus: EventBusHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.eventBus.isHealthy('eventBus', { timeoutMs: 500 })]);
  }
}

describe('EventBusHealthIndicator under @nestjs/terminus', () => {
  let moduleRef: TestingModule | undefined;
  afterEach(async () => {
    await moduleRef?.close();
    moduleRef = undefined;
  });

  const boot = async (): Promise<HealthController> => {
    moduleRef = await Test.createTestingModule({
      imports: [TerminusModule, EventBusTestingModule.forRoot()],
      controllers: [HealthController],
    }).compile();
    await moduleRef.init();
    return moduleRef.get(HealthController);
  };

  it('is up with every check, in terminus’s result shape', async () => {
    const result = await (await boot()).check();
    expect(result).toMatchObject({
      status: 'ok',
      info: {
        eventBus: {
          status: 'up',
          problems: [],
          bus: { status: 'up' },
          queue: { status: 'up', backend: 'in-memory' },
          worker: { status: 'up', consuming: true },
          outbox: { status: 'up', oldestPendingMs: null },
          orderedHandlers: { status: 'up', lag: {} },
        },
      },
    });
  });

  it('is down (503), naming the cause, once the bus is closed', async () => {
    const controller = await boot();
    await moduleRef!.get(EventBus).close();
    const failure = await controller.check().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ServiceUnavailableException);
    expect((failure as ServiceUnavailableException).getResponse()).toMatchObject({
      status: 'error',
      error: {
        eventBus: {
          status: 'down',
          problems: expect.arrayContaining(['bus: the event bus is closed']),
          bus: { status: 'down', reason: 'the event bus is closed' },
        },
      },
    });
  });
});
