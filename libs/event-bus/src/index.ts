// The public API of @app/event-bus. Everything else is internal.
export * from './shared/errors.js';
export * from './events/domain-event.js';
export * from './store/event-store.js';
export * from './subscriptions/retry-policy.js';
export * from './subscriptions/subscription.js';
export { computeBackoffDelay, validateRetryPolicy, MAX_BACKOFF_DELAY_MS } from './subscriptions/backoff.js';
export {
  compileEventPattern,
  matchesEventPattern,
  validateEventPattern,
  type EventPatternMatcher,
} from './subscriptions/event-pattern.js';
export {
  SubscriptionManager,
  type AddHandlerOptions,
  type HandlerSource,
  type RegisteredHandler,
} from './subscriptions/subscription-manager.js';
export { OnEvent, type OnEventOptions } from './nest/on-event.decorator.js';
export { EventBusModule } from './nest/event-bus.module.js';
export type { EventBusModuleExtras, EventBusModuleOptions } from './nest/event-bus.module-definition.js';
export { EVENT_BUS_MODULE_OPTIONS, EVENT_BUS_QUEUE } from './nest/event-bus.constants.js';
export { EVENT_BUS_DEFAULTS } from './core/event-bus.options.js';
export type {
  EventBusCoreOptions,
  EventBusWorkerOptions,
  PostgresQueueConnectionOptions,
  RedisConnectionOptions,
  RelayOptions,
} from './core/event-bus.options.js';
export { validateEventBusOptions } from './core/event-bus.options.validation.js';
export * from './core/event-bus.js';
export { validateEvent } from './events/event-validator.js';
export type { EventValidationOptions } from './events/event-validator.js';
export { isValidEventType } from './events/event-type.js';
export { EventStoreEntity, eventBusEntities } from './store/typeorm/event-store.entity.js';
export { HandlerDeliveryEntity } from './store/typeorm/handler-delivery.entity.js';
export type { HandlerDeliveryStatus } from './core/ports/delivery-records.js';
export { EventStoreRepository } from './store/typeorm/event-store.repository.js';
export { PersistentEventStore } from './store/typeorm/persistent-event-store.js';
export type { PersistentEventStoreOptions } from './store/typeorm/persistent-event-store.js';
export { BullMQEventBus } from './transport/bullmq/bullmq-event-bus.js';
export type { EventBusOptions } from './transport/bullmq/bullmq-event-bus.options.js';
