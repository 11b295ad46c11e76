import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { EventBusHealthIndicator } from '@app/event-bus';

const CHECK_TIMEOUT_MS = 2000;

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    // Provided by EventBusModule: readiness, the queue's server, this process's worker, the outbox
    // and the ordered handlers' lag, each probe bounded.
    private readonly eventBus: EventBusHealthIndicator,
  ) {}

  /** Readiness: PostgreSQL (the event store) answers and the event bus is healthy. 503 otherwise, naming why. */
  @Get()
  @HealthCheck()
  readiness() {
    return this.health.check([
      () => this.database.pingCheck('database').withTimeout(CHECK_TIMEOUT_MS),
      () => this.eventBus.isHealthy('eventBus', { timeoutMs: CHECK_TIMEOUT_MS }),
    ]);
  }

  /** Liveness: the process serves requests; no dependency is asked, so a database outage restarts nothing. */
  @Get('live')
  @HealthCheck()
  liveness() {
    return this.health.check([]);
  }
}
