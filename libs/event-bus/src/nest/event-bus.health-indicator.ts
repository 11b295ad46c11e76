import { Injectable } from '@nestjs/common';
import { EventBus } from '../core/event-bus.js';
import type { EventBusHealth, EventBusHealthOptions, HealthCheckResult } from '../core/event-bus-health.js';

/** One check as `/health` shows it: terminus's `status`, the reason when down, and what was measured. */
export type EventBusHealthCheckStatus = { status: 'up' | 'down'; reason?: string } & Record<string, unknown>;

/**
 * The result of `isHealthy(key)`: `@nestjs/terminus`'s `HealthIndicatorResult` shape,
 * `{ [key]: { status, ... } }`, declared here because terminus is an optional peer dependency: an app
 * without it can still use `EventBus.checkHealth()`.
 */
export type EventBusHealthIndicatorResult<Key extends string = 'eventBus'> = Record<
  Key,
  {
    status: 'up' | 'down';
    /** The failing checks' reasons, each led by its check's name. */
    problems: string[];
    bus: EventBusHealthCheckStatus;
    queue: EventBusHealthCheckStatus;
    worker: EventBusHealthCheckStatus;
    outbox: EventBusHealthCheckStatus;
    orderedHandlers: EventBusHealthCheckStatus;
  }
>;

/**
 * A health indicator for `@nestjs/terminus`, provided and exported by `EventBusModule`:
 *
 * ```ts
 * this.health.check([() => this.eventBus.isHealthy('eventBus', { outboxOldestMs: 30_000 })])
 * ```
 *
 * Down, naming each cause, when the bus is not ready, Redis is unreachable or may evict keys, this
 * process's worker is stuck, the outbox's oldest event or an ordered handler's lag is over its
 * threshold (see `EventBus.checkHealth`). It builds terminus's result object itself, as
 * `HealthIndicatorService.check(key).up()/down()` would, so the library never imports terminus.
 */
@Injectable()
export class EventBusHealthIndicator {
  constructor(private readonly bus: EventBus) {}

  /** Every probe bounded by `options.timeoutMs` (default 2000 ms); thresholds default as `EVENT_BUS_HEALTH_DEFAULTS`. */
  async isHealthy<const Key extends string = 'eventBus'>(
    key: Key = 'eventBus' as Key,
    options?: EventBusHealthOptions,
  ): Promise<EventBusHealthIndicatorResult<Key>> {
    return toIndicatorResult(key, await this.bus.checkHealth(options));
  }
}

export function toIndicatorResult<Key extends string>(
  key: Key,
  health: EventBusHealth,
): EventBusHealthIndicatorResult<Key> {
  const { checks } = health;
  const result = {
    status: health.healthy ? ('up' as const) : ('down' as const),
    problems: health.problems,
    bus: asStatus(checks.bus),
    queue: asStatus(checks.queue),
    worker: asStatus(checks.worker),
    outbox: asStatus(checks.outbox),
    orderedHandlers: asStatus(checks.orderedHandlers),
  };
  return { [key]: result } as EventBusHealthIndicatorResult<Key>;
}

function asStatus(check: HealthCheckResult): EventBusHealthCheckStatus {
  return {
    status: check.healthy ? 'up' : 'down',
    ...(check.reason === undefined ? {} : { reason: check.reason }),
    ...check.details,
  };
}
