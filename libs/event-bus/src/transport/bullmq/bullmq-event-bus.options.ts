import type { Queue } from 'bullmq';
import type { EventBusCoreOptions } from '../../core/event-bus.options.js';
import type { EventStore } from '../../store/event-store.js';
import type { SubscriptionManager } from '../../subscriptions/subscription-manager.js';

/** Options of `new BullMQEventBus(options)`: the shared options plus the parts it is built from. */
export interface EventBusOptions extends EventBusCoreOptions {
  /**
   * Where events are stored: a store that offers its delivery ledger (`PersistentEventStore` does),
   * whose database then also holds the outbox and the delivery records.
   */
  eventStore: EventStore;
  /** The handler registry. @default a new, empty one */
  subscriptions?: SubscriptionManager;
  /**
   * The event queue, when something else created it (the Nest module passes the one `@nestjs/bullmq`
   * made). The bus uses it and never closes it; without it the bus creates and owns its queue.
   */
  queue?: Queue;
}
