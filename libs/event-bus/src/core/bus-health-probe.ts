/**
 * Runs the bus's health checks at once, each bounded by `timeoutMs`: a dead Redis or a frozen
 * PostgreSQL fails its check in time and never hangs the caller's `/health`. The transport probes
 * its queue and worker (ports/transport-health.ts); the outbox and the ordered handlers are read
 * here, through the ledger and the bus's own `getOrderedHandlers()`.
 */
import { withDeadline } from '../shared/with-deadline.js';
import type { EventBusReadiness, OrderedHandlerState } from './event-bus.js';
import { summarizeHealth, type EventBusHealth, type ResolvedHealthOptions } from './event-bus-health.js';
import type { EventTransport } from './ports/event-transport.js';
import type { Outbox } from './ports/outbox.js';
import type { HealthCheckResult } from './ports/transport-health.js';

export interface BusHealthSources {
  readiness: EventBusReadiness;
  transport: EventTransport;
  outbox: Outbox;
  orderedHandlers: () => Promise<OrderedHandlerState[]>;
}

export async function probeBusHealth(
  sources: BusHealthSources,
  options: ResolvedHealthOptions,
): Promise<EventBusHealth> {
  const { readiness, transport } = sources;
  const [transportHealth, outbox, orderedHandlers] = await Promise.all([
    withDeadline(
      transport.checkHealth({ timeoutMs: options.timeoutMs, workerStuckMs: options.workerStuckMs }),
      // The transport bounds each probe itself; this only guards against one that forgets.
      options.timeoutMs + 100,
      `The event transport's health probe`,
    ).catch((error: unknown) => ({ queue: failed(error), worker: failed(error) })),
    outboxCheck(sources.outbox, options),
    orderedCheck(sources.orderedHandlers, options),
  ]);
  return summarizeHealth({
    bus: readiness.ready ? { healthy: true } : { healthy: false, reason: readiness.reason ?? 'not ready' },
    queue: transportHealth.queue,
    // A process that does not consume has no worker to judge.
    worker: transportHealth.worker ?? { healthy: true, details: { consuming: false } },
    outbox,
    orderedHandlers,
  });
}

async function outboxCheck(outbox: Outbox, options: ResolvedHealthOptions): Promise<HealthCheckResult> {
  let ageMs: number | null;
  try {
    ageMs = await withDeadline(outbox.oldestPendingAgeMs(), options.timeoutMs, 'The event store');
  } catch (error) {
    return { healthy: false, reason: `the outbox could not be read: ${(error as Error).message}` };
  }
  const details = { oldestPendingMs: ageMs, thresholdMs: options.outboxOldestMs };
  if (ageMs === null || ageMs <= options.outboxOldestMs) return { healthy: true, details };
  return {
    healthy: false,
    reason:
      `the oldest event not yet enqueued was stored ${ageMs} ms ago (outboxOldestMs ${options.outboxOldestMs}): ` +
      'the outbox relay is not enqueueing (is the queue reachable, is the relay on?)',
    details,
  };
}

async function orderedCheck(
  orderedHandlers: () => Promise<OrderedHandlerState[]>,
  options: ResolvedHealthOptions,
): Promise<HealthCheckResult> {
  let handlers: OrderedHandlerState[];
  try {
    handlers = await withDeadline(orderedHandlers(), options.timeoutMs, 'The ordered handlers');
  } catch (error) {
    return { healthy: false, reason: `the ordered handlers could not be read: ${(error as Error).message}` };
  }
  const lag = Object.fromEntries(handlers.map((state) => [state.handler, state.lag]));
  const details = { lag, thresholdEvents: options.orderedLagEvents };
  const behind = handlers.filter((state) => state.lag > options.orderedLagEvents);
  if (behind.length === 0) return { healthy: true, details };
  return {
    healthy: false,
    reason:
      behind.map((state) => `"${state.handler}" is ${state.lag} events behind`).join(', ') +
      ` (orderedLagEvents ${options.orderedLagEvents})`,
    details,
  };
}

function failed(error: unknown): HealthCheckResult {
  return { healthy: false, reason: (error as Error).message };
}
