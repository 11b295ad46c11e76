/**
 * The transport port: how stored events reach their handlers. The core bus (core/durable-event-bus.ts)
 * stores, then dispatches through it; BullMQ (Redis or PostgreSQL backend) is one adapter, an
 * in-memory one another. Nothing here names a queue library.
 */
import type { StoredEvent } from '../../events/domain-event.js';
import type { FailedDeliveryFilter } from './failed-delivery-records.js';
import type { TransportHealth, TransportHealthLimits } from './transport-health.js';

/** What `EventBus.readiness()` answers, for health checks. */
export interface EventBusReadiness {
  /** Started as configured (consuming, when it is a worker) and its queue answers. */
  ready: boolean;
  /** Why not, when not ready. */
  reason?: string;
}

export interface DispatchOptions {
  /** The events were appended by this publish just now, so their first delivery needs no look-up first. */
  fresh: boolean;
  /** Reject at once, without trying, while the transport is known to be unreachable. */
  failFast: boolean;
}

export interface EventTransport {
  /** What it delivers through, as log lines name it (e.g. `queue "workflow-events"`). */
  readonly name: string;

  /** Whether this process consumes (or will, once the transport answers). Meaningful after `start`. */
  readonly consuming: boolean;

  /**
   * Whether other processes may consume what it dispatches (a shared queue): then a handler
   * subscribed after start-up runs in this process only, which the bus warns about.
   */
  readonly sharedByProcesses: boolean;

  /**
   * Connects, starts its own recovery and (when it consumes) its consumers. A transport that does not
   * answer yet need not fail start-up: it may keep trying and say so in `readiness()`. When `start`
   * rejects it has undone what it started, and may be started again.
   */
  start(): Promise<void>;

  /** Ready: started as configured and its connection is not failing. */
  readiness(): EventBusReadiness;

  /**
   * Probes its queue's server and this process's consumer (`worker` absent when it does not consume),
   * each within `limits.timeoutMs`. Never rejects: what fails or does not answer is an unhealthy result.
   */
  checkHealth(limits: TransportHealthLimits): Promise<TransportHealth>;

  /**
   * Hands stored events to their consumers; resolves to their job ids in input order. Rejects when
   * it could not (the outbox relay dispatches them later); dispatching an event twice delivers it once.
   */
  dispatch(events: readonly StoredEvent[], options: DispatchOptions): Promise<string[]>;

  /** Re-drives failed deliveries (the ledger's records) as new deliveries; resolves to how many. */
  redriveFailed(filter: FailedDeliveryFilter): Promise<number>;

  /**
   * Its jobs by state (`waiting`, `active`, `delayed`, `failed`, …) for the `event_bus_queue_jobs`
   * gauge; absent, or `undefined`, when it has no queue to count. The caller bounds the wait.
   */
  jobCounts?(): Promise<Readonly<Record<string, number>> | undefined>;

  /** Stops taking work and lets running handlers finish, within the shutdown deadline. */
  drain(): Promise<void>;

  /** Stops its background work and closes what it opened, each step bounded. After `drain`. */
  close(): Promise<void>;
}
