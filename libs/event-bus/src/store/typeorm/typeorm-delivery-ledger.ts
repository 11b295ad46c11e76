import type { DataSource } from 'typeorm';
import type { DeliveryLedger, StoreConnectionSettings } from '../../core/ports/delivery-ledger.js';
import { postgresClientConfig } from './postgres-client-config.js';
import { assertSchemaMigrated } from './schema-check.js';
import { TypeOrmDeliveryGauges } from './typeorm-delivery-gauges.js';
import { TypeOrmDeliveryRecords } from './typeorm-delivery-records.js';
import { TypeOrmEventStatuses } from './typeorm-event-statuses.js';
import { TypeOrmFailedDeliveries } from './typeorm-failed-deliveries.js';
import { TypeOrmOrderedLog } from './typeorm-ordered-log.js';
import { TypeOrmHandlerInbox } from './typeorm-handler-inbox.js';
import { TypeOrmOutbox } from './typeorm-outbox.js';
import { TypeOrmUnfinishedEvents } from './typeorm-unfinished-events.js';

/**
 * The delivery ledger on the event store's own DataSource: every table the bus uses beside the
 * events (the job ids and statuses on `event_store`, `event_handler_deliveries`, the outbox, the
 * transactional handlers' `event_bus_inbox`) is
 * read and written here, one SQL operation per file in schema/. Built by
 * `PersistentEventStore.deliveryLedger()`.
 */
export class TypeOrmDeliveryLedger implements DeliveryLedger {
  readonly jobIds: TypeOrmEventStatuses;
  readonly statuses: TypeOrmEventStatuses;
  readonly deliveries: TypeOrmDeliveryRecords;
  readonly failed: TypeOrmFailedDeliveries;
  readonly unfinished: TypeOrmUnfinishedEvents;
  readonly outbox: TypeOrmOutbox;
  readonly ordered: TypeOrmOrderedLog;
  readonly inbox: TypeOrmHandlerInbox;
  readonly transactions: TypeOrmHandlerInbox;
  readonly gauges: TypeOrmDeliveryGauges;

  constructor(
    private readonly dataSource: DataSource,
    /** Deadline of the statements a caller waits for (`storeTimeoutMs`), in ms. */
    storeTimeoutMs: number,
    /** How long a transactional handler's transaction may sit idle (see `DeliveryLedgerOptions`). */
    handlerTransactionIdleMs?: number,
  ) {
    this.statuses = new TypeOrmEventStatuses(dataSource, storeTimeoutMs);
    this.jobIds = this.statuses;
    this.deliveries = new TypeOrmDeliveryRecords(dataSource);
    this.failed = new TypeOrmFailedDeliveries(dataSource, storeTimeoutMs);
    this.unfinished = new TypeOrmUnfinishedEvents(dataSource);
    this.outbox = new TypeOrmOutbox(dataSource, storeTimeoutMs);
    this.ordered = new TypeOrmOrderedLog(dataSource, storeTimeoutMs);
    this.inbox = new TypeOrmHandlerInbox(dataSource, handlerTransactionIdleMs);
    this.transactions = this.inbox;
    this.gauges = new TypeOrmDeliveryGauges(dataSource, storeTimeoutMs);
  }

  assertSchemaMigrated(): Promise<void> {
    return assertSchemaMigrated(this.dataSource);
  }

  connectionSettings(): StoreConnectionSettings {
    return postgresClientConfig(this.dataSource);
  }
}
