import type { LoggerService } from '@nestjs/common';
import type { Registry } from 'prom-client';
import { EventBusConfigurationError } from '../shared/errors.js';
import { NO_INSTRUMENTS, type EventBusInstruments } from './event-bus-instruments.js';
import { PrometheusInstruments } from './prometheus-instruments.js';

/** `metrics: { … }`: where the bus registers its Prometheus metrics. */
export interface EventBusMetricsOptions {
  /** @default prom-client's default registry (`register`) */
  registry?: Registry;
  /**
   * Longest a scrape waits for one gauge's query (the store's failed deliveries and outbox, the
   * queue's job counts), in ms. Past it the gauge reads `NaN` (no labels) or is left out (labels).
   * @default 2000
   */
  collectTimeoutMs?: number;
}

/** `metrics: true` means prom-client's default registry; `false`, or nothing, turns metrics off. */
export type EventBusMetricsOption = boolean | EventBusMetricsOptions;

export const DEFAULT_COLLECT_TIMEOUT_MS = 2000;

/** Checks the `metrics` option (called by the options validation of every bus). */
export function checkMetricsOption(value: unknown, option: string): void {
  if (typeof value === 'boolean') return;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new EventBusConfigurationError(option, 'must be true, false or { registry?, collectTimeoutMs? }');
  }
  for (const [key, field] of Object.entries(value)) {
    if (key === 'registry') {
      if (field !== undefined && !isRegistry(field)) {
        throw new EventBusConfigurationError(`${option}.registry`, 'must be a prom-client Registry (new Registry())');
      }
    } else if (key === 'collectTimeoutMs') {
      if (field !== undefined && !(Number.isSafeInteger(field) && (field as number) > 0)) {
        throw new EventBusConfigurationError(`${option}.collectTimeoutMs`, 'must be a positive integer (ms)');
      }
    } else {
      throw new EventBusConfigurationError(
        `${option}.${key}`,
        'is not a metrics option (known: registry, collectTimeoutMs)',
      );
    }
  }
}

/** The instruments the option asks for; prom-client is loaded only when metrics are on. */
export function createInstruments(
  option: EventBusMetricsOption | undefined,
  logger: LoggerService,
): EventBusInstruments {
  if (option === undefined || option === false) return NO_INSTRUMENTS;
  const given = option === true ? {} : option;
  return new PrometheusInstruments({
    registry: given.registry,
    collectTimeoutMs: given.collectTimeoutMs ?? DEFAULT_COLLECT_TIMEOUT_MS,
    logger,
  });
}

/** Duck-typed: a registry of another copy of prom-client is fine. */
function isRegistry(value: unknown): boolean {
  const candidate = value as Partial<Registry> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.registerMetric === 'function' &&
    typeof candidate.getSingleMetric === 'function' &&
    typeof candidate.metrics === 'function'
  );
}
