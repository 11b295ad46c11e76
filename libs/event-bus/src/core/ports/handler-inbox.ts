/**
 * The store's side of transactional handlers (DESIGN.md 6.7): a handler's writes through
 * `context.manager` and the record that it handled the event commit together, so a repeated
 * delivery finds the record and does not call it again.
 */
import type { EntityManager } from 'typeorm';
import type { TransactionalRun } from '../../subscriptions/handler-runner.js';

/** What runs inside the handler's transaction: `manager` is the transaction's (undefined in memory). */
export type TransactionalWork = (manager: EntityManager | undefined) => Promise<void>;

export interface HandlerInbox {
  /** Whether the store can run handlers in its database's transactions (TypeORM: true; in-memory: false). */
  readonly transactional: boolean;
  /**
   * Runs `work` exactly once per (eventId, handler): in one transaction it first claims the inbox row
   * (INSERT … ON CONFLICT DO NOTHING — a concurrent duplicate blocks on the key until the first commits,
   * then finds it), skips if it was already there, else runs `work(manager)` and then `alsoInTransaction(manager)`,
   * and commits. A throw rolls everything back (the claim included) and rethrows.
   */
  runOnce(
    eventId: string,
    handler: string,
    work: TransactionalWork,
    alsoInTransaction?: TransactionalWork,
  ): Promise<'ran' | 'skipped'>;
}

/**
 * A transaction of the store's database without the inbox: what a replay (a deliberate re-run)
 * gives a transactional handler. `work` commits or, when it throws, rolls back and the error is rethrown.
 */
export interface HandlerTransactions {
  run(work: TransactionalWork): Promise<void>;
}

/** How deliveries run transactional handlers: once per (event, handler), through the inbox. */
export function runOnceThrough(inbox: HandlerInbox): TransactionalRun {
  return (eventId, handler, call) => inbox.runOnce(eventId, handler, call);
}

/** How replays run transactional handlers: in a transaction, without the inbox check (a deliberate re-run). */
export function runInTransactionOf(transactions: HandlerTransactions): TransactionalRun {
  return (_eventId, _handler, call) => transactions.run(call);
}
