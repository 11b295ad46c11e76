// The public API of @app/event-bus/testing: what users need for their own unit tests.
export { InMemoryEventStore, type InMemoryEventStoreOptions } from './in-memory-event-store.js';
export { InMemoryEventBus, type InMemoryEventBusOptions } from './in-memory-event-bus.js';
