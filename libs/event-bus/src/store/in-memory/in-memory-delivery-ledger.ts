import type { DeliveryLedger, StoreConnectionSettings } from '../../core/ports/delivery-ledger.js';
import { EventBusConfigurationError } from '../../shared/errors.js';
import { InMemoryDeliveryGauges } from './in-memory-delivery-gauges.js';
import { InMemoryDeliveryRecords } from './in-memory-delivery-records.js';
import { InMemoryEventStatuses } from './in-memory-event-statuses.js';
import { InMemoryFailedDeliveries } from './in-memory-failed-deliveries.js';
import { InMemoryOrderedLog } from './in-memory-ordered-log.js';
import { InMemoryHandlerInbox } from './in-memory-handler-inbox.js';
import { InMemoryOutbox } from './in-memory-outbox.js';
import type { InMemoryTables } from './in-memory-tables.js';
import { InMemoryUnfinishedEvents } from './in-memory-unfinished-events.js';

/**
 * The delivery ledger of `InMemoryEventStore`: the same ports as the TypeORM ledger, on the store's
 * in-memory tables, so the core bus keeps its statuses, job ids and handler records there exactly
 * as it keeps them in PostgreSQL. Built by `InMemoryEventStore.deliveryLedger()`.
 */
export class InMemoryDeliveryLedger implements DeliveryLedger {
  readonly jobIds: InMemoryEventStatuses;
  readonly statuses: InMemoryEventStatuses;
  readonly deliveries: InMemoryDeliveryRecords;
  readonly failed: InMemoryFailedDeliveries;
  readonly unfinished: InMemoryUnfinishedEvents;
  readonly outbox: InMemoryOutbox;
  readonly ordered: InMemoryOrderedLog;
  readonly inbox: InMemoryHandlerInbox;
  readonly transactions: InMemoryHandlerInbox;
  readonly gauges: InMemoryDeliveryGauges;

  /** `ordered` is the store's own: checkpoints outlive a ledger, as their table does. */
  constructor(tables: InMemoryTables, ordered = new InMemoryOrderedLog(tables)) {
    this.statuses = new InMemoryEventStatuses(tables);
    this.jobIds = this.statuses;
    this.deliveries = new InMemoryDeliveryRecords(tables);
    this.failed = new InMemoryFailedDeliveries(tables);
    this.unfinished = new InMemoryUnfinishedEvents(tables);
    this.outbox = new InMemoryOutbox(tables);
    this.ordered = ordered;
    this.inbox = new InMemoryHandlerInbox(tables);
    this.transactions = this.inbox;
    this.gauges = new InMemoryDeliveryGauges(tables);
  }

  /** There is no schema to migrate. */
  async assertSchemaMigrated(): Promise<void> {}

  /** There is no database: a transport that would keep its queue there needs a connection of its own. */
  connectionSettings(): StoreConnectionSettings {
    throw new EventBusConfigurationError(
      'postgres',
      "InMemoryEventStore has no database to keep BullMQ's PostgreSQL queue in: give postgres.connectionString",
    );
  }
}
