import type { LoggerService } from '@nestjs/common';
import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { withDeadline } from '../shared/with-deadline.js';
import type { EventBusGaugeSource } from './event-bus-instruments.js';

type PromClient = typeof import('prom-client');

/** One attached bus: its readings, and how long a scrape waits for them. */
export interface AttachedSource {
  source: EventBusGaugeSource;
  collectTimeoutMs: number;
  logger: LoggerService;
  /** Readings that failed at the last scrape: logged once per outage, not once per scrape. */
  failing: Set<string>;
}

/**
 * The bus's metrics in one registry (DESIGN.md 6.8). Labels are the event type, the handler name, the
 * outcome and the queue state: never an event id, a tenant id or a payload value.
 *
 * The gauges that need a query are read at scrape time (prom-client calls `collect`), each bounded by
 * the source's deadline. When a reading fails or times out, an unlabelled gauge reads `NaN`
 * (unknown, rather than a stale or a false 0) and a labelled one leaves its series out.
 */
export class EventBusMetricSet {
  readonly published: Counter<'type'>;
  readonly handled: Counter<'handler' | 'outcome'>;
  readonly duration: Histogram<'handler'>;
  /** Every bus of this process that reports to this registry, while it runs. */
  readonly sources = new Set<AttachedSource>();

  constructor(client: PromClient, registry: Registry) {
    const registers = [registry];
    this.published = new client.Counter({
      name: 'event_bus_published_total',
      help: 'Events stored by publish (idempotent repeats not counted), by event type',
      labelNames: ['type'],
      registers,
    });
    this.handled = new client.Counter({
      name: 'event_bus_handled_total',
      help: 'Handler calls by outcome: success, retry (the policy tries again) or failed (the delivery failed)',
      labelNames: ['handler', 'outcome'],
      registers,
    });
    this.duration = new client.Histogram({
      name: 'event_bus_handler_duration_seconds',
      help: 'Duration of one handler call (one attempt), in seconds',
      labelNames: ['handler'],
      registers,
    });
    const failed: Gauge = new client.Gauge({
      name: 'event_bus_failed_deliveries',
      help: 'Handler deliveries that exhausted their retry policy and wait to be re-driven',
      registers,
      collect: async () => failed.set(sum(await this.readAll('failed deliveries', (s) => s.failedDeliveries()))),
    });
    const queueJobs: Gauge<'state'> = new client.Gauge({
      name: 'event_bus_queue_jobs',
      help: 'Jobs in the event queue, by state',
      labelNames: ['state'],
      registers,
      collect: async () => {
        const counts = await this.readAll('queue job counts', (s) => s.queueJobs());
        queueJobs.reset();
        const totals = new Map<string, number>();
        for (const byState of counts) {
          for (const [state, count] of Object.entries(byState ?? {}))
            totals.set(state, (totals.get(state) ?? 0) + count);
        }
        for (const [state, count] of totals) queueJobs.set({ state }, count);
      },
    });
    const outboxPending: Gauge = new client.Gauge({
      name: 'event_bus_outbox_pending',
      help: 'Events stored but not handed to the queue yet (the outbox relay enqueues them)',
      registers,
      collect: async () => {
        const backlogs = await this.readAll('outbox', (s) => s.outbox());
        outboxPending.set(sum(backlogs.map((backlog) => backlog?.pending)));
      },
    });
    const outboxOldest: Gauge = new client.Gauge({
      name: 'event_bus_outbox_oldest_seconds',
      help: 'Age of the oldest event stored but not handed to the queue yet, in seconds (0: none)',
      registers,
      collect: async () => {
        const backlogs = await this.readAll('outbox', (s) => s.outbox());
        outboxOldest.set(max(backlogs.map((backlog) => backlog?.oldestSeconds)));
      },
    });
    const orderedLag: Gauge<'handler'> = new client.Gauge({
      name: 'event_bus_ordered_lag_events',
      help: 'Events an ordered handler has still to handle',
      labelNames: ['handler'],
      registers,
      collect: async () => {
        const lists = await this.readAll('ordered handlers', (s) => s.orderedLag());
        orderedLag.reset();
        const lags = new Map<string, number>();
        for (const list of lists) {
          for (const { handler, lag } of list ?? []) lags.set(handler, Math.max(lags.get(handler) ?? 0, lag));
        }
        for (const [handler, lag] of lags) orderedLag.set({ handler }, lag);
      },
    });
  }

  /**
   * One reading of every attached source, each bounded by its deadline; `undefined` for a source
   * whose reading failed (logged once until it answers again). No source at all reads as unknown.
   */
  private async readAll<T>(
    what: string,
    read: (source: EventBusGaugeSource) => Promise<T>,
  ): Promise<Array<T | undefined>> {
    if (this.sources.size === 0) return [undefined];
    return Promise.all(
      [...this.sources].map(async (attached) => {
        try {
          const value = await withDeadline(read(attached.source), attached.collectTimeoutMs, `Reading the ${what}`);
          attached.failing.delete(what);
          return value;
        } catch (error) {
          if (!attached.failing.has(what)) {
            attached.failing.add(what);
            attached.logger.warn(`Metrics: ${(error as Error).message}; the gauge reads as unknown until it answers`);
          }
          return undefined;
        }
      }),
    );
  }
}

/** The sum over the buses; unknown (`NaN`) when one of them could not tell. */
function sum(values: ReadonlyArray<number | undefined>): number {
  let total = 0;
  for (const value of values) {
    if (value === undefined) return Number.NaN;
    total += value;
  }
  return total;
}

function max(values: ReadonlyArray<number | undefined>): number {
  let highest = 0;
  for (const value of values) {
    if (value === undefined) return Number.NaN;
    highest = Math.max(highest, value);
  }
  return highest;
}
