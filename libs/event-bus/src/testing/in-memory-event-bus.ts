/**
 * `InMemoryEventBus`: the core bus (core/durable-event-bus.ts) on the in-memory transport, with an
 * `InMemoryEventStore` and the delivery ledger it offers. No PostgreSQL, no Redis, for unit tests:
 * validation, publishing, routing, retries, failure records, re-drives and replay are the code
 * `BullMQEventBus` runs, only the transport and the tables differ. Retry waits take no time unless
 * `realDelays`. What the test harness needs besides is here: change notifications, idle tracking,
 * what was published and failed, and a reset.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Logger, type LoggerService } from '@nestjs/common';
import type { OrderedRunSettings } from '../ordered/ordered-handlers.js';
import { DurableEventBus } from '../core/durable-event-bus.js';
import { EVENT_BUS_DEFAULTS } from '../core/event-bus.options.js';
import { InMemoryEventStore } from '../store/in-memory/in-memory-event-store.js';
import type { InMemoryDeliveryLedger } from '../store/in-memory/in-memory-delivery-ledger.js';
import type { EventChangeListener } from '../store/in-memory/in-memory-tables.js';
import { validateRetryPolicy } from '../subscriptions/backoff.js';
import { validateHandlerTimeout } from '../subscriptions/handler-timeout.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../subscriptions/retry-policy.js';
import { SubscriptionManager } from '../subscriptions/subscription-manager.js';
import { InMemoryEventTransport } from '../transport/in-memory/in-memory-event-transport.js';
import type { RecordedFailure } from './recorded-failure.js';
import type { EventBusInstruments } from '../observability/event-bus-instruments.js';
import { checkMetricsOption, createInstruments, type EventBusMetricsOption } from '../observability/metrics-options.js';

export type { EventChangeListener } from '../store/in-memory/in-memory-tables.js';

export interface InMemoryEventBusOptions {
  /** Where events, statuses and delivery records are kept. @default a new `InMemoryEventStore` with `maxPayloadBytes` */
  eventStore?: InMemoryEventStore;
  /** The handler registry (the testing module shares it with `@OnEvent` discovery). @default a new one */
  subscriptions?: SubscriptionManager;
  /** Retry policy of handlers that declare none. @default 3 attempts, exponential from 1 s */
  defaultRetry?: RetryPolicy;
  /** Wait the retry policy's delays between attempts instead of retrying at once. @default false */
  realDelays?: boolean;
  /** Largest accepted payload (and metadata), as serialized JSON bytes. @default 1048576 (1 MiB) */
  maxPayloadBytes?: number;
  /** How long `close()` waits for running handlers, in ms. @default 10000 */
  shutdownTimeoutMs?: number;
  /** Longest attempt of a handler that declares no `timeoutMs`, in ms (`HandlerTimeoutError`). @default none */
  handlerTimeoutMs?: number;
  /** Receives handler failures (WARN while retries remain, ERROR when a delivery failed). @default Nest's `Logger` */
  logger?: LoggerService;
  /** Prometheus metrics, as `EventBusModule`'s `metrics` option (no queue: no `event_bus_queue_jobs`). @default false */
  metrics?: EventBusMetricsOption;
}

/** What the bus is built from; kept by the subclass for the harness's questions. */
interface InMemoryBusParts {
  eventStore: InMemoryEventStore;
  ledger: InMemoryDeliveryLedger;
  transport: InMemoryEventTransport;
  subscriptions: SubscriptionManager;
  logger: LoggerService;
  ordered: OrderedRunSettings;
  instruments: EventBusInstruments;
}

/** How often an idle wait looks at the ordered handlers, which settle on their own loop. */
const ORDERED_SETTLE_POLL_MS = 5;

export class InMemoryEventBus extends DurableEventBus {
  readonly eventStore: InMemoryEventStore;
  readonly subscriptions: SubscriptionManager;
  private readonly ledger: InMemoryDeliveryLedger;
  private readonly transport: InMemoryEventTransport;

  constructor(options: InMemoryEventBusOptions = {}) {
    const parts = inMemoryBusParts(options);
    super({
      ...parts,
      // A store given with its own limit: the core bus checks the bus's first, as BullMQEventBus does.
      maxPayloadBytes: options.maxPayloadBytes,
      closeStepTimeoutMs: EVENT_BUS_DEFAULTS.enqueueTimeoutMs,
      handlerTimeoutMs: options.handlerTimeoutMs,
      startHint: 'in a Nest testing module, await moduleRef.init() or app.init() runs it',
    });
    this.eventStore = parts.eventStore;
    this.subscriptions = parts.subscriptions;
    this.ledger = parts.ledger;
    this.transport = parts.transport;
  }

  /**
   * Resolves true once every delivery and retry has settled, including those they started, and the
   * ordered handlers have caught up with the log; false after `timeoutMs`.
   */
  async idle(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!(await this.transport.idle(Math.max(0, deadline - Date.now())))) return false;
      // Ordered handlers run on their own loop: settled, and no queue work started meanwhile.
      if ((await this.orderedSettled()) && (await this.transport.idle(0))) return true;
      if (Date.now() >= deadline) return false;
      await sleep(ORDERED_SETTLE_POLL_MS);
    }
  }

  /** What is still being delivered, for the message of an idle wait that ran out. */
  running(): string[] {
    return [...this.transport.running(), ...this.orderedWork()];
  }

  /** Ids of the events this bus published, in order. */
  published(): readonly string[] {
    return this.transport.published();
  }

  /** The failed deliveries, as `getFailedDeliveries` lists them, with the errors the handlers threw. */
  failures(): RecordedFailure[] {
    return this.ledger.failed.failedNow().map((record) => ({
      eventId: record.eventId,
      handler: record.handler,
      attempts: record.attempts,
      lastError: record.lastError ?? '',
      failedAt: record.failedAt.toISOString(),
      error: this.transport.errors.get(record.eventId, record.handler) ?? new Error(record.lastError ?? ''),
    }));
  }

  /** Listens to every change of a stored event (stored, new status); returns the function that stops listening. */
  onChange(listener: EventChangeListener): () => void {
    return this.eventStore.onChange(listener);
  }

  /** Forgets what was published and the handlers' errors; `InMemoryEventStore.clear()` forgets events and records. */
  reset(): void {
    this.transport.reset();
  }
}

function inMemoryBusParts(options: InMemoryEventBusOptions): InMemoryBusParts {
  const logger = options.logger ?? new Logger('EventBus');
  const eventStore = options.eventStore ?? new InMemoryEventStore({ maxPayloadBytes: options.maxPayloadBytes });
  const ledger = eventStore.deliveryLedger();
  const subscriptions = options.subscriptions ?? new SubscriptionManager({ logger });
  if (options.metrics !== undefined) checkMetricsOption(options.metrics, 'metrics');
  const instruments = createInstruments(options.metrics, logger);
  const defaultRetry =
    options.defaultRetry === undefined
      ? DEFAULT_RETRY_POLICY
      : validateRetryPolicy(options.defaultRetry, 'defaultRetry');
  const handlerTimeoutMs =
    options.handlerTimeoutMs === undefined
      ? undefined
      : validateHandlerTimeout(options.handlerTimeoutMs, 'handlerTimeoutMs');
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? EVENT_BUS_DEFAULTS.shutdownTimeoutMs;
  const transport = new InMemoryEventTransport({
    ledger,
    subscriptions,
    defaultRetry,
    realDelays: options.realDelays ?? false,
    shutdownTimeoutMs,
    handlerTimeoutMs,
    logger,
    instruments,
  });
  const ordered = {
    takeoverMs: EVENT_BUS_DEFAULTS.orderedTakeoverMs,
    concurrency: EVENT_BUS_DEFAULTS.concurrency,
    defaultRetry,
    handlerTimeoutMs,
    shutdownTimeoutMs,
    immediateRetries: !(options.realDelays ?? false),
  };
  return { eventStore, ledger, transport, subscriptions, logger, ordered, instruments };
}
