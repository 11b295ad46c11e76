import type { DataSource, EntityManager } from 'typeorm';
import type { FailedDelivery, FailedDeliveryFilter, FailedDeliveryQuery } from '../../core/event-bus.js';
import type {
  FailedDeliveryClaim,
  FailedDeliveryRecords,
  RedriveBatch,
} from '../../core/ports/failed-delivery-records.js';
import { claimFailedSql, failedWhere, listFailedSql, REDRIVE_CUTOFF_SQL } from './schema/failed-deliveries.sql.js';
import { MARK_DELIVERIES_REDRIVEN_SQL, MARK_EVENTS_REDRIVEN_SQL } from './schema/mark-redriven.sql.js';
import { toStoredEvent, type EventStoreRow } from './schema/stored-event.mapper.js';
import { asStoreError, checkStoreAnswers, withinStoreDeadline } from './store-availability.js';

/** Re-drives are claimed and enqueued in transactions of this many records. */
const REDRIVE_BATCH = 500;

type ClaimedRow = EventStoreRow & { handler: string; run: number; delivery_job_id: string | null };

/** The dead letters (see the port): their query, and the claim-and-mark side of a re-drive. */
export class TypeOrmFailedDeliveries implements FailedDeliveryRecords {
  constructor(
    private readonly dataSource: DataSource,
    private readonly storeTimeoutMs: number,
  ) {}

  /** One query, bounded by the store's deadline. */
  async listFailed(filter: FailedDeliveryQuery = {}): Promise<FailedDelivery[]> {
    const { where, params } = failedWhere(filter);
    const sql = listFailedSql(where, params, { after: filter.after, limit: filter.limit });
    const rows: Array<{
      event_id: string;
      handler: string;
      attempts: number;
      last_error: string | null;
      failed_at: Date;
    }> = await withinStoreDeadline(this.dataSource.query(sql, params), this.storeTimeoutMs);
    return rows.map((row) => ({
      eventId: row.event_id,
      handler: row.handler,
      attempts: row.attempts,
      lastError: row.last_error ?? '',
      failedAt: row.failed_at.toISOString(),
    }));
  }

  /**
   * A re-drive of many deliveries may rightly take longer than one deadline, so the deadline bounds
   * the question whether PostgreSQL answers at all; a connection refused or dropped during the
   * re-drive is reported as `StoreUnavailableError` too.
   */
  async redriveFailed(
    filter: FailedDeliveryFilter,
    plan: (claims: readonly FailedDeliveryClaim[]) => RedriveBatch,
    afterCommit: (replacedJobIds: readonly string[]) => Promise<void>,
  ): Promise<number> {
    const { where, params } = failedWhere(filter); // before any SQL, the probe's included
    await checkStoreAnswers(this.dataSource, this.storeTimeoutMs);
    try {
      // Deliveries that fail again while this call runs are left for the next call, not re-driven twice.
      const [{ cutoff }] = await this.dataSource.query<[{ cutoff: Date }]>(REDRIVE_CUTOFF_SQL);
      let total = 0;
      for (;;) {
        const { count, replaced } = await this.dataSource.transaction((manager) =>
          this.redriveBatch(manager, where, [...params, cutoff], plan),
        );
        // After the commit: had it failed, the old jobs would still be the deliveries' dead letters.
        await afterCommit(replaced);
        total += count;
        if (count < REDRIVE_BATCH) return total;
      }
    } catch (error) {
      throw asStoreError(error);
    }
  }

  /**
   * One batch, in one transaction: claim, mark, and enqueue before committing. A handler job that
   * starts before the commit waits on the row lock when it writes its record, so it always sees its
   * own run.
   */
  private async redriveBatch(
    manager: EntityManager,
    where: string,
    params: unknown[],
    plan: (claims: readonly FailedDeliveryClaim[]) => RedriveBatch,
  ): Promise<{ count: number; replaced: string[] }> {
    const rows: ClaimedRow[] = await manager.query(claimFailedSql(where, params.length, REDRIVE_BATCH), params);
    if (rows.length === 0) return { count: 0, replaced: [] };
    const claims = rows.map((row): FailedDeliveryClaim => ({
      event: toStoredEvent(row),
      handler: row.handler,
      run: row.run + 1,
      replacedJobId: row.delivery_job_id,
    }));
    const batch = plan(claims);
    await manager.query(MARK_DELIVERIES_REDRIVEN_SQL, [
      claims.map((claim) => claim.event.id),
      claims.map((claim) => claim.handler),
      claims.map((claim) => claim.run),
      batch.jobIds,
    ]);
    await manager.query(MARK_EVENTS_REDRIVEN_SQL, [[...new Set(claims.map((claim) => claim.event.id))]]);
    await batch.enqueue();
    const replaced = claims.map((claim) => claim.replacedJobId).filter((id): id is string => id !== null);
    return { count: rows.length, replaced };
  }
}
