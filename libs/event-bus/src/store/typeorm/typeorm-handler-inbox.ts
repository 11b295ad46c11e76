import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import type { HandlerInbox, HandlerTransactions, TransactionalWork } from '../../core/ports/handler-inbox.js';
import { CLAIM_INBOX_SQL } from './schema/claim-inbox.sql.js';
import { asStoreError } from './store-availability.js';

/**
 * Transactional handlers on the store's DataSource (see the port): the handler's writes, the
 * inbox row and whatever the caller adds commit in one transaction of `event_bus_inbox`'s database.
 */
export class TypeOrmHandlerInbox implements HandlerInbox, HandlerTransactions {
  readonly transactional = true;

  constructor(
    private readonly dataSource: DataSource,
    /** How long a handler's transaction may sit idle, in ms (none when undefined). */
    private readonly idleLimitMs?: number,
  ) {}

  runOnce(
    eventId: string,
    handler: string,
    work: TransactionalWork,
    alsoInTransaction?: TransactionalWork,
  ): Promise<'ran' | 'skipped'> {
    return this.inTransaction(async (manager) => {
      let claimed: unknown[];
      try {
        claimed = await manager.query(CLAIM_INBOX_SQL, [eventId, handler, this.idleLimitMs ?? null]);
      } catch (error) {
        throw asStoreError(error);
      }
      if (claimed.length === 0) return 'skipped';
      await work(manager);
      await alsoInTransaction?.(manager);
      return 'ran';
    });
  }

  run(work: TransactionalWork): Promise<void> {
    return this.inTransaction(work);
  }

  /**
   * TypeORM's `transaction()` would do, but for how it ends on a failure: it sends ROLLBACK on the
   * connection and then releases it, and a handler that timed out is still running (it may ignore its
   * signal) and may send a statement between the two, which would then run outside any transaction
   * and commit. So a failed transaction's connection is discarded instead (see `discard`).
   */
  private async inTransaction<T>(body: (manager: EntityManager) => Promise<T>): Promise<T> {
    const runner = this.dataSource.createQueryRunner();
    try {
      await runner.startTransaction();
    } catch (error) {
      await discard(runner, error);
      throw asStoreError(error);
    }
    let result: T;
    try {
      result = await body(runner.manager);
      await runner.commitTransaction();
    } catch (error) {
      await discard(runner, error);
      throw error;
    }
    await runner.release();
    return result;
  }
}

/**
 * Ends a failed transaction by closing its connection: the runner is marked released at once (any
 * later statement through its manager throws), the pool drops the client, and PostgreSQL rolls the
 * transaction back when the connection ends. A driver without that way out gets ROLLBACK and release.
 */
async function discard(runner: QueryRunner, error: unknown): Promise<void> {
  const postgres = runner as QueryRunner & { releasePostgresConnection?: (error?: unknown) => Promise<void> };
  try {
    if (typeof postgres.releasePostgresConnection === 'function') {
      await postgres.releasePostgresConnection(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    if (runner.isTransactionActive) await runner.rollbackTransaction();
  } catch {
    // The transaction's own error is what the caller needs; a failed close changes nothing for it.
  }
  await runner.release().catch(() => undefined);
}
