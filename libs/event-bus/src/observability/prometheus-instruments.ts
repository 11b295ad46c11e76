import type { LoggerService } from '@nestjs/common';
import type { Registry } from 'prom-client';
import { EventBusConfigurationError } from '../shared/errors.js';
import type { EventBusGaugeSource, EventBusInstruments, HandledOutcome } from './event-bus-instruments.js';
import { EventBusMetricSet, type AttachedSource } from './prometheus-metric-set.js';

export interface PrometheusInstrumentsOptions {
  /** @default prom-client's default registry */
  registry?: Registry;
  collectTimeoutMs: number;
  logger: LoggerService;
}

/**
 * One metric set per registry, shared by every bus that reports to it: prom-client refuses a second
 * metric of the same name, and two buses of one process (two queues) add up in one set of series.
 * Keyed weakly, so a registry that is dropped takes its metrics with it.
 */
const METRIC_SETS = new WeakMap<Registry, EventBusMetricSet>();

/**
 * The prom-client adapter of `EventBusInstruments`. prom-client is an optional peer dependency: it
 * is imported (as ESM, so a test runner's module registry sees the same copy as the app) only when
 * metrics are on, in `ready()`, which `initialize()` awaits. Nothing is published or delivered before.
 */
export class PrometheusInstruments implements EventBusInstruments {
  readonly enabled = true;
  private metrics?: EventBusMetricSet;
  private loading?: Promise<void>;

  constructor(private readonly options: PrometheusInstrumentsOptions) {}

  ready(): Promise<void> {
    this.loading ??= this.load().catch((error: unknown) => {
      this.loading = undefined;
      throw error;
    });
    return this.loading;
  }

  published(types: readonly string[]): void {
    const counter = this.metrics?.published;
    if (!counter) return;
    if (types.length === 1) return counter.inc({ type: types[0] });
    // A batch is mostly of a few types: one increment per type, not per event.
    const counts = new Map<string, number>();
    for (const type of types) counts.set(type, (counts.get(type) ?? 0) + 1);
    for (const [type, count] of counts) counter.inc({ type }, count);
  }

  handled(handler: string, outcome: HandledOutcome): void {
    this.metrics?.handled.inc({ handler, outcome });
  }

  handlerDuration(handler: string, seconds: number): void {
    this.metrics?.duration.observe({ handler }, seconds);
  }

  attach(source: EventBusGaugeSource): () => void {
    const metrics = this.metrics;
    if (!metrics) return () => undefined;
    const attached: AttachedSource = {
      source,
      collectTimeoutMs: this.options.collectTimeoutMs,
      logger: this.options.logger,
      failing: new Set(),
    };
    metrics.sources.add(attached);
    return () => metrics.sources.delete(attached);
  }

  private async load(): Promise<void> {
    let client: typeof import('prom-client');
    try {
      client = await import('prom-client');
    } catch (error) {
      throw new EventBusConfigurationError(
        'metrics',
        `needs the prom-client package, which could not be loaded (npm install prom-client): ${(error as Error).message}`,
      );
    }
    const registry = this.options.registry ?? client.register;
    let metrics = METRIC_SETS.get(registry);
    if (!metrics) {
      try {
        metrics = new EventBusMetricSet(client, registry);
      } catch (error) {
        throw new EventBusConfigurationError(
          'metrics.registry',
          `already holds a metric of the event bus's names that it did not register: ${(error as Error).message}`,
        );
      }
      METRIC_SETS.set(registry, metrics);
    }
    this.metrics = metrics;
  }
}
