/** Metadata key under which `@OnEvent` stores its declarations (an array, so decorators stack). */
export const ON_EVENT_METADATA = 'event-bus:on-event';

/** Injection token of the options exactly as given to `forRoot` / returned by `forRootAsync`'s factory. */
export const EVENT_BUS_MODULE_OPTIONS = Symbol('EVENT_BUS_MODULE_OPTIONS');

/** Injection token of the options after `validateEventBusOptions` accepted them. */
export const EVENT_BUS_OPTIONS = Symbol('EVENT_BUS_OPTIONS');

/**
 * Registration name of the event queue in `@nestjs/bullmq` terms: inject it with
 * `@InjectQueue(EVENT_BUS_QUEUE)` or hand it to a dashboard. The queue's real name is the `queueName` option.
 */
export const EVENT_BUS_QUEUE = 'event-bus';
