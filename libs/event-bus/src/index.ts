// The public API of nestjs-durable-events: what the README and docs/ document, nothing else.
// Tests that need an internal import it from its source path.

// The Nest module, the decorator, the injectable bus and store.
export { EventBusModule } from './nest/event-bus.module.js';
export type { EventBusModuleExtras, EventBusModuleOptions } from './nest/event-bus.module-definition.js';
export { OnEvent, type OnEventOptions } from './nest/on-event.decorator.js';
export { EVENT_BUS_QUEUE } from './nest/event-bus.constants.js';
export {
  EventBusHealthIndicator,
  type EventBusHealthCheckStatus,
  type EventBusHealthIndicatorResult,
} from './nest/event-bus.health-indicator.js';
export { EventBus } from './core/event-bus.js';
export type {
  EventBusReadiness,
  FailedDelivery,
  FailedDeliveryCursor,
  FailedDeliveryFilter,
  FailedDeliveryQuery,
  LogPosition,
  OrderedHandlerState,
  PublishOptions,
  ReplayOptions,
  ResetOrderedHandlerOptions,
  ReplayProgress,
  ReplayResult,
} from './core/event-bus.js';
export { EVENT_BUS_HEALTH_DEFAULTS } from './core/event-bus-health.js';
export type {
  EventBusHealth,
  EventBusHealthChecks,
  EventBusHealthOptions,
  HealthCheckResult,
} from './core/event-bus-health.js';
export { SubscriptionManager } from './subscriptions/subscription-manager.js';
export { EventStore } from './store/event-store.js';
export type {
  AppendedEvent,
  EventCountFilter,
  EventFilter,
  EventQueryOptions,
  EventStreamFilter,
  EventWriteOptions,
  FinishedEventStatus,
  PruneOptions,
  WorkflowVersionOptions,
} from './store/event-store.js';

// Events, handlers and retry policies.
export type { DomainEvent, EventMetadata, EventStatus, NewDomainEvent, StoredEvent } from './events/domain-event.js';
export { validateEvent, type EventValidationOptions } from './events/event-validator.js';
export type { EventContext, EventHandler, SubscribeOptions, Subscription } from './subscriptions/subscription.js';
export type { BackoffFunction, BackoffOptions, RetryPolicy } from './subscriptions/retry-policy.js';
export { computeBackoffDelay, MAX_BACKOFF_DELAY_MS } from './subscriptions/backoff.js';
export { matchesEventPattern } from './subscriptions/event-pattern.js';

// Options and errors.
export { EVENT_BUS_DEFAULTS } from './core/event-bus.options.js';
export type {
  EventBusCoreOptions,
  EventBusWorkerOptions,
  PostgresQueueConnectionOptions,
  RedisConnectionOptions,
  RelayOptions,
} from './core/event-bus.options.js';
export type { EventBusMetricsOption, EventBusMetricsOptions } from './observability/metrics-options.js';
export * from './shared/errors.js';

// Building the bus by hand (scripts, tests): the TypeORM store and the BullMQ bus.
export { eventBusEntities, EventStoreEntity } from './store/typeorm/event-store.entity.js';
export { EventStoreRepository } from './store/typeorm/event-store.repository.js';
export { PersistentEventStore, type PersistentEventStoreOptions } from './store/typeorm/persistent-event-store.js';
export { BullMQEventBus } from './transport/bullmq/bullmq-event-bus.js';
export type { EventBusOptions } from './transport/bullmq/bullmq-event-bus.options.js';
