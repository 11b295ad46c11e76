// The public API of @app/event-bus/testing (`nestjs-durable-events/testing`): what users need for their own unit tests.
export { EventBusTestingModule, type EventBusTestingOptions } from './event-bus-testing.module.js';
export { EventBusTestHarness, type EventMatcher, type HarnessWaitOptions } from './event-bus-test-harness.js';
export type { RecordedFailure } from './recorded-failure.js';
export { InMemoryEventBus, type InMemoryEventBusOptions } from './in-memory-event-bus.js';
export { InMemoryEventStore, type InMemoryEventStoreOptions } from '../store/in-memory/in-memory-event-store.js';
