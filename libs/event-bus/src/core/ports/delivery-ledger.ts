/**
 * The store-side ports a bus needs beside the `EventStore`: everything of PostgreSQL the delivery
 * machinery reads or writes, each table with one owner (the store side). A store offers them through
 * `deliveryLedger()`; `PersistentEventStore` does, with `TypeOrmDeliveryLedger`.
 */
import type { EventStore } from '../../store/event-store.js';
import type { DeliveryGauges } from './delivery-gauges.js';
import type { DeliveryRecords, EventStatuses, JobIdRecords } from './delivery-records.js';
import type { FailedDeliveryRecords } from './failed-delivery-records.js';
import type { OrderedLog } from './ordered-log.js';
import type { HandlerInbox, HandlerTransactions } from './handler-inbox.js';
import type { Outbox } from './outbox.js';
import type { UnfinishedEvents } from './unfinished-events.js';

export interface DeliveryLedger {
  readonly jobIds: JobIdRecords;
  readonly statuses: EventStatuses;
  readonly deliveries: DeliveryRecords;
  readonly failed: FailedDeliveryRecords;
  readonly unfinished: UnfinishedEvents;
  readonly outbox: Outbox;
  /** The log as ordered handlers read it, their checkpoints, leases and key progress. */
  readonly ordered: OrderedLog;
  /** Transactional handlers: each (event, handler) runs once, its writes and its inbox row in one transaction. */
  readonly inbox: HandlerInbox;
  /** Transactional handlers in replays: a transaction without the inbox check. */
  readonly transactions: HandlerTransactions;
  /** Failed deliveries and the outbox backlog, read for metrics. */
  readonly gauges: DeliveryGauges;
  /** Rejects with `EventBusConfigurationError` naming the missing tables when the migrations have not run. */
  assertSchemaMigrated(): Promise<void>;
  /** Connection settings of the store's database, for a transport that keeps its queue there. */
  connectionSettings(): StoreConnectionSettings;
}

/**
 * Where the store's database is, in node-postgres terms (a subset of its `ClientConfig`, declared
 * here so the public types need no driver typings).
 */
export interface StoreConnectionSettings {
  connectionString?: string;
  host?: string;
  port?: number;
  user?: string;
  password?: string | (() => string | Promise<string>);
  database?: string;
  ssl?: boolean | object;
}

export interface DeliveryLedgerOptions {
  /** How long one bounded statement waits for the store, in ms (`StoreUnavailableError` past it). */
  storeTimeoutMs: number;
  /**
   * How long a transactional handler's transaction may sit idle, in ms: a process frozen inside it
   * (SIGSTOP, a paused VM) would otherwise keep its inbox row locked, and the redelivery of the
   * stalled job waiting, for as long as its connection lives. The queue's lock duration. @default none
   */
  handlerTransactionIdleMs?: number;
}

/** A store that offers the delivery ledger of its database. */
export interface DeliveryLedgerSource {
  deliveryLedger(options: DeliveryLedgerOptions): DeliveryLedger;
}

export function offersDeliveryLedger(store: EventStore): store is EventStore & DeliveryLedgerSource {
  return typeof (store as Partial<DeliveryLedgerSource>).deliveryLedger === 'function';
}
