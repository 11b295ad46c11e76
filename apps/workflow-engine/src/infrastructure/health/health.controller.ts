import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { EventBusHealthIndicator } from './event-bus.health.js';
import { QueueHealthIndicator } from './queue.health.js';

const CHECK_TIMEOUT_MS = 2000;

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly queue: QueueHealthIndicator,
    private readonly bus: EventBusHealthIndicator,
  ) {}

  /** Readiness: PostgreSQL (the event store) and the event queue answer, and the bus has started. 503 otherwise. */
  @Get()
  @HealthCheck()
  readiness() {
    return this.health.check([
      () => this.database.pingCheck('database').withTimeout(CHECK_TIMEOUT_MS),
      () => this.queue.check('queue', CHECK_TIMEOUT_MS),
      () => this.bus.check('eventBus'),
    ]);
  }

  /** Liveness: the process serves requests; no dependency is asked, so a database outage restarts nothing. */
  @Get('live')
  @HealthCheck()
  liveness() {
    return this.health.check([]);
  }
}
