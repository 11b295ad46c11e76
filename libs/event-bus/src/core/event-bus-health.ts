/**
 * The bus's health, as `EventBus.checkHealth()` answers it and `EventBusHealthIndicator` shows it:
 * readiness, the queue's server, this process's worker, the outbox and the ordered handlers' lag,
 * each a named check that says why it fails. The thresholds are options with defaults.
 */
import { EventBusConfigurationError } from '../shared/errors.js';
import type { HealthCheckResult } from './ports/transport-health.js';

export type { HealthCheckResult } from './ports/transport-health.js';

export interface EventBusHealthOptions {
  /** The outbox's oldest event (stored, not enqueued yet) may wait this long, in ms. @default 60000 */
  outboxOldestMs?: number;
  /** An ordered handler may be this many events behind. @default 1000 */
  orderedLagEvents?: number;
  /**
   * This process's worker is stuck when it started and finished no job for this long, in ms, while a
   * job waited as long (in the queue, or for a handler slot). Keep it above your slowest handler's
   * run time. @default 60000
   */
  workerStuckMs?: number;
  /** Deadline of each probe, in ms: what does not answer within it fails its check. @default 2000 */
  timeoutMs?: number;
}

export const EVENT_BUS_HEALTH_DEFAULTS = Object.freeze({
  outboxOldestMs: 60_000,
  orderedLagEvents: 1000,
  workerStuckMs: 60_000,
  timeoutMs: 2000,
});

export type ResolvedHealthOptions = Required<EventBusHealthOptions>;

/** The checks, by name. */
export interface EventBusHealthChecks {
  /** Started, not closing, its transport's connection not failing (`readiness()`). */
  bus: HealthCheckResult;
  /** The queue's server answers; on Redis, with `maxmemory-policy noeviction`. */
  queue: HealthCheckResult;
  /** This process's worker takes and finishes jobs; healthy with `consuming: false` in a publish-only process. */
  worker: HealthCheckResult;
  /** The outbox's oldest event waited less than `outboxOldestMs`. */
  outbox: HealthCheckResult;
  /** Every ordered handler is at most `orderedLagEvents` behind. */
  orderedHandlers: HealthCheckResult;
}

export interface EventBusHealth {
  healthy: boolean;
  /** The reasons of the failing checks, each led by its check's name (`queue: Redis is unreachable: …`). */
  problems: string[];
  checks: EventBusHealthChecks;
}

/** Defaults filled in; a given threshold that is not a positive integer is an `EventBusConfigurationError` naming it. */
export function resolveHealthOptions(options: EventBusHealthOptions = {}): ResolvedHealthOptions {
  if (typeof options !== 'object' || options === null) {
    throw new EventBusConfigurationError('health options', 'must be an object');
  }
  const resolved: ResolvedHealthOptions = { ...EVENT_BUS_HEALTH_DEFAULTS };
  for (const name of Object.keys(EVENT_BUS_HEALTH_DEFAULTS) as (keyof ResolvedHealthOptions)[]) {
    const value = options[name];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
      throw new EventBusConfigurationError(name, `must be a positive integer, got ${String(value)}`);
    }
    resolved[name] = value;
  }
  const unknown = Object.keys(options).filter((name) => !(name in EVENT_BUS_HEALTH_DEFAULTS));
  if (unknown.length > 0) {
    throw new EventBusConfigurationError(
      unknown[0],
      `is not a health option (known: ${Object.keys(EVENT_BUS_HEALTH_DEFAULTS).join(', ')})`,
    );
  }
  return resolved;
}

/** The summary of the checks: healthy when all are, and each failing one's reason. */
export function summarizeHealth(checks: EventBusHealthChecks): EventBusHealth {
  const problems = (Object.entries(checks) as [string, HealthCheckResult][])
    .filter(([, check]) => !check.healthy)
    .map(([name, check]) => `${name}: ${check.reason ?? 'unhealthy'}`);
  return { healthy: problems.length === 0, problems, checks };
}
