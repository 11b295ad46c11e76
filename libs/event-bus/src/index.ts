// The public API of @app/event-bus. Everything else is internal.
export * from './errors.js';
export * from './events/domain-event.js';
export * from './store/event-store.js';
export * from './subscriptions/retry-policy.js';
export * from './subscriptions/subscription.js';
export * from './event-bus.js';
