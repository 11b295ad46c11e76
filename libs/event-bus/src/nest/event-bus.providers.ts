import type { InjectionToken, Provider } from '@nestjs/common';
import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import type { DataSource } from 'typeorm';
import { EventBus } from '../core/event-bus.js';
import { EVENT_BUS_MODULE_OPTIONS, EVENT_BUS_OPTIONS, EVENT_BUS_QUEUE } from './event-bus.constants.js';
import { EVENT_BUS_DEFAULTS, type EventBusCoreOptions } from '../core/event-bus.options.js';
import { validateEventBusOptions } from '../core/event-bus.options.validation.js';
import { applyWorkerOverride } from './worker-override.js';
import { EventStore } from '../store/event-store.js';
import { EventStoreRepository } from '../store/typeorm/event-store.repository.js';
import { PersistentEventStore } from '../store/typeorm/persistent-event-store.js';
import { postgresClientConfig } from '../store/typeorm/postgres-client-config.js';
import { SubscriptionManager } from '../subscriptions/subscription-manager.js';
import { BullMQEventBus } from '../transport/bullmq/bullmq-event-bus.js';
import { resolveQueueBackend } from '../transport/bullmq/queue/queue-backend.js';
import { EventBusHealthIndicator } from './event-bus.health-indicator.js';

/** Injection token of the event queue, `@InjectQueue(EVENT_BUS_QUEUE)` in `@nestjs/bullmq` terms. */
export const EVENT_BUS_QUEUE_TOKEN = getQueueToken(EVENT_BUS_QUEUE);

/** What the module exports (it is global by default). */
export const EVENT_BUS_EXPORTS = [
  EventBus,
  EventStore,
  SubscriptionManager,
  EVENT_BUS_QUEUE_TOKEN,
  EventBusHealthIndicator,
];

/**
 * The providers that depend on the options and on the store's DataSource. The library's classes
 * never need the Nest container: these factories only wire them, as a script would by hand.
 */
export function eventBusProviders(dataSource: InjectionToken): Provider[] {
  return [
    // Validated once, at start-up: every other provider reads the options through this token.
    // The CLI's process-wide `worker: false` (worker-override.ts) applies after the user's options.
    {
      provide: EVENT_BUS_OPTIONS,
      useFactory: (options: EventBusCoreOptions) => applyWorkerOverride(validateEventBusOptions(options)),
      inject: [EVENT_BUS_MODULE_OPTIONS],
    },
    {
      provide: SubscriptionManager,
      useFactory: (options: EventBusCoreOptions) => new SubscriptionManager({ logger: options.logger }),
      inject: [EVENT_BUS_OPTIONS],
    },
    {
      provide: EventStoreRepository,
      useFactory: (source: DataSource) => new EventStoreRepository(source),
      inject: [dataSource],
    },
    {
      provide: EventStore,
      useFactory: (repository: EventStoreRepository, options: EventBusCoreOptions) =>
        new PersistentEventStore(repository, {
          maxPayloadBytes: options.maxPayloadBytes,
          storeTimeoutMs: options.storeTimeoutMs,
          logger: options.logger,
        }),
      inject: [EventStoreRepository, EVENT_BUS_OPTIONS],
    },
    {
      // Built here rather than by `BullModule.registerQueueAsync`: the backend (Redis or PostgreSQL) is an
      // option known only once the async factory ran, and @nestjs/bullmq can bind a queue to the PostgreSQL
      // backend only through a process-wide static (`BullModule.queueClass`). The token is the one
      // `@InjectQueue(EVENT_BUS_QUEUE)` reads; the module closes the queue after the bus (EventBusLifecycle).
      provide: EVENT_BUS_QUEUE_TOKEN,
      useFactory: (options: EventBusCoreOptions, source: DataSource): Queue => {
        const queue = resolveQueueBackend(options, () => postgresClientConfig(source)).createQueue(
          options.queueName ?? EVENT_BUS_DEFAULTS.queueName,
        );
        // The queue connects at once, the bus reports its connection errors only from bootstrap on (and
        // once per outage): until then, and after close, an 'error' with no listener would be printed
        // by BullMQ with its stack on every reconnect attempt.
        queue.on('error', () => undefined);
        return queue;
      },
      inject: [EVENT_BUS_OPTIONS, dataSource],
    },
    {
      provide: EventBus,
      useFactory: (
        options: EventBusCoreOptions,
        eventStore: EventStore,
        subscriptions: SubscriptionManager,
        queue: Queue,
      ) => new BullMQEventBus({ ...options, eventStore, subscriptions, queue }),
      inject: [EVENT_BUS_OPTIONS, EventStore, SubscriptionManager, EVENT_BUS_QUEUE_TOKEN],
    },
    // For @nestjs/terminus; it needs only the bus, so an app without terminus pays nothing for it.
    EventBusHealthIndicator,
  ];
}
