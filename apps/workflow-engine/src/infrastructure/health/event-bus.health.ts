import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { EventBus } from '@app/event-bus';

/**
 * Whether the event bus is ready: started, consuming, and its queue answering. Down while a queue
 * that did not answer at start-up is still awaited (the app serves meanwhile), with the bus's reason.
 */
@Injectable()
export class EventBusHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly bus: EventBus,
  ) {}

  check<const Key extends string>(key: Key) {
    const indicator = this.indicators.check(key);
    const { ready, reason } = this.bus.readiness();
    return ready ? indicator.up() : indicator.down({ reason });
  }
}
