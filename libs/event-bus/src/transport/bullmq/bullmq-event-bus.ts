/**
 * `BullMQEventBus`: the core bus (core/durable-event-bus.ts) on the BullMQ transport, Redis or
 * PostgreSQL backend, with a store that offers its delivery ledger (`PersistentEventStore`):
 *
 *   new BullMQEventBus({ eventStore: new PersistentEventStore(new EventStoreRepository(dataSource)) })
 *
 * It resolves the options and builds the transport; everything else is the core bus's.
 */
import { Logger } from '@nestjs/common';
import { DurableEventBus, type DurableEventBusParts } from '../../core/durable-event-bus.js';
import { EVENT_BUS_DEFAULTS } from '../../core/event-bus.options.js';
import { validateEventBusOptions } from '../../core/event-bus.options.validation.js';
import {
  offersDeliveryLedger,
  type DeliveryLedger,
  type DeliveryLedgerOptions,
} from '../../core/ports/delivery-ledger.js';
import { EventBusConfigurationError } from '../../shared/errors.js';
import type { EventStore } from '../../store/event-store.js';
import { DEFAULT_RETRY_POLICY } from '../../subscriptions/retry-policy.js';
import { SubscriptionManager } from '../../subscriptions/subscription-manager.js';
import type { EventBusOptions } from './bullmq-event-bus.options.js';
import { BullMQEventTransport } from './bullmq-event-transport.js';
import { resolveRelaySettings, type BusSettings } from './bus-settings.js';
import { defaultPrefetch } from './delivery/handler-slots.js';
import { resolveQueueBackend } from './queue/queue-backend.js';
import { createInstruments } from '../../observability/metrics-options.js';

export class BullMQEventBus extends DurableEventBus {
  constructor(options: EventBusOptions) {
    super(bullMQBusParts(options));
  }
}

/** BullMQ's default `lockDuration`, in ms: how long a job is its worker's before it counts as stalled. */
const DEFAULT_LOCK_DURATION_MS = 30_000;

function bullMQBusParts(options: EventBusOptions): DurableEventBusParts {
  const { eventStore, subscriptions, queue, ...core } = options;
  validateEventBusOptions(core);
  const logger = core.logger ?? new Logger('EventBus');
  const storeTimeoutMs = core.storeTimeoutMs ?? EVENT_BUS_DEFAULTS.storeTimeoutMs;
  const ledger = ledgerOf(eventStore, {
    storeTimeoutMs,
    // A stalled job is redelivered after its lock expires: a transaction frozen longer is given up.
    handlerTransactionIdleMs: core.workerOptions?.lockDuration ?? DEFAULT_LOCK_DURATION_MS,
  });
  const registry = subscriptions ?? new SubscriptionManager({ logger });
  const instruments = createInstruments(core.metrics, logger);
  const backend = resolveQueueBackend(core, () => ledger.connectionSettings());
  const concurrency = core.concurrency ?? EVENT_BUS_DEFAULTS.concurrency;
  const settings: BusSettings = {
    queueName: queue?.name ?? core.queueName ?? EVENT_BUS_DEFAULTS.queueName,
    concurrency,
    prefetch: core.prefetch ?? defaultPrefetch(concurrency),
    defaultRetry: core.defaultRetry ?? DEFAULT_RETRY_POLICY,
    worker: core.worker ?? EVENT_BUS_DEFAULTS.worker,
    enqueueTimeoutMs: core.enqueueTimeoutMs ?? EVENT_BUS_DEFAULTS.enqueueTimeoutMs,
    jobBatchSize: core.jobBatchSize ?? EVENT_BUS_DEFAULTS.jobBatchSize,
    handlerTimeoutMs: core.handlerTimeoutMs,
    shutdownTimeoutMs: core.shutdownTimeoutMs ?? EVENT_BUS_DEFAULTS.shutdownTimeoutMs,
    storeTimeoutMs,
    relay: resolveRelaySettings(core.relay),
  };
  const transport = new BullMQEventTransport({
    options: { queue, workerOptions: core.workerOptions },
    backend,
    settings,
    ledger,
    subscriptions: registry,
    logger,
    instruments,
  });
  return {
    eventStore,
    ledger,
    transport,
    subscriptions: registry,
    logger,
    maxPayloadBytes: core.maxPayloadBytes,
    closeStepTimeoutMs: settings.enqueueTimeoutMs,
    handlerTimeoutMs: settings.handlerTimeoutMs,
    ordered: {
      takeoverMs: core.orderedTakeoverMs ?? EVENT_BUS_DEFAULTS.orderedTakeoverMs,
      concurrency,
      defaultRetry: settings.defaultRetry,
      handlerTimeoutMs: settings.handlerTimeoutMs,
      shutdownTimeoutMs: settings.shutdownTimeoutMs,
    },
    instruments,
  };
}

/** The bus keeps its outbox and delivery records in the store's database: the store must offer them. */
function ledgerOf(eventStore: EventStore, options: DeliveryLedgerOptions): DeliveryLedger {
  if (offersDeliveryLedger(eventStore)) return eventStore.deliveryLedger(options);
  throw new EventBusConfigurationError(
    'eventStore',
    'must offer a delivery ledger, as PersistentEventStore does (new PersistentEventStore(new ' +
      'EventStoreRepository(dataSource))): the bus keeps its outbox and delivery records in the same database.',
  );
}
