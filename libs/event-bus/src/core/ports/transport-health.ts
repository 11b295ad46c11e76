/**
 * What a transport says about its own health (`EventTransport.checkHealth`): its queue's server and
 * this process's consumer. The core bus adds the outbox and the ordered handlers (core/health/).
 */

/** One part of the bus's health: healthy or not, why not, and what was seen. */
export interface HealthCheckResult {
  healthy: boolean;
  /** Why not, naming the cause (absent when healthy). */
  reason?: string;
  /** What was measured: counts, ages, the eviction policy. Never a secret or an event's content. */
  details?: Record<string, unknown>;
}

/** The bounds of a transport's health probes. */
export interface TransportHealthLimits {
  /** Deadline of each probe, in ms: a server that does not answer within it is unhealthy. */
  timeoutMs: number;
  /**
   * A consumer that started and finished no job for this long, in ms, while a job has been waiting at
   * least as long, is stuck (its handlers hang, or it does not fetch).
   */
  workerStuckMs: number;
}

export interface TransportHealth {
  /** The queue's server answers (on Redis: and keeps every key, `maxmemory-policy noeviction`). */
  queue: HealthCheckResult;
  /** This process's consumer takes and finishes jobs; `undefined` when this process does not consume. */
  worker?: HealthCheckResult;
}
