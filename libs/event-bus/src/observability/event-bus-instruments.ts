/**
 * The port through which the bus reports what it does to a metrics backend (DESIGN.md 6.8). The core
 * and the transports call it on their hot paths; `NO_INSTRUMENTS` (metrics off) does nothing, and
 * callers skip even the clock reads when `enabled` is false. `PrometheusInstruments` is the
 * prom-client adapter.
 */

/** How a handler call ended: `retry` when its policy tries again, `failed` when the delivery failed. */
export type HandledOutcome = 'success' | 'retry' | 'failed';

/** The outbox as a scrape sees it: events stored but not handed to the queue yet. */
export interface OutboxBacklog {
  pending: number;
  /** Age of the oldest of them, in seconds; 0 when there is none. */
  oldestSeconds: number;
}

/**
 * What one started bus can tell at scrape time, each answer a query (of the store or of the queue).
 * The instruments bound every call by a deadline, so a dead store or queue never hangs a scrape.
 */
export interface EventBusGaugeSource {
  failedDeliveries(): Promise<number>;
  outbox(): Promise<OutboxBacklog>;
  /** Job counts by BullMQ state (`waiting`, `active`, `delayed`, `failed`, …); `undefined` when the transport has no queue. */
  queueJobs(): Promise<Readonly<Record<string, number>> | undefined>;
  /** Lag in events of each ordered handler (`EventBus.getOrderedHandlers()`). */
  orderedLag(): Promise<ReadonlyArray<{ handler: string; lag: number }>>;
}

export interface EventBusInstruments {
  /** False when metrics are off: callers need not measure anything. */
  readonly enabled: boolean;
  /** Resolves once the backend is loaded (the bus awaits it in `initialize()`); rejects when it cannot be. */
  ready(): Promise<void>;
  /** Events a publish stored (not idempotent repeats), counted by type. */
  published(types: readonly string[]): void;
  handled(handler: string, outcome: HandledOutcome): void;
  handlerDuration(handler: string, seconds: number): void;
  /** Reports this bus's gauges at every scrape until the returned function is called (on close). */
  attach(source: EventBusGaugeSource): () => void;
}

/** Metrics off: every call is a no-op. */
export const NO_INSTRUMENTS: EventBusInstruments = Object.freeze({
  enabled: false,
  ready: () => Promise.resolve(),
  published: () => undefined,
  handled: () => undefined,
  handlerDuration: () => undefined,
  attach: () => () => undefined,
});
