import type { DataSource, EntityManager } from 'typeorm';
import { EventValidationError } from '../../../errors.js';
import type { FailedDelivery, FailedDeliveryFilter } from '../../../event-bus.js';
import { isUuid, normalizeUuid } from '../../../events/uuid.js';
import { storedEventColumns, toStoredEvent, type EventStoreRow } from '../../../store/typeorm/stored-event.mapper.js';
import type { RetryPolicy } from '../../../subscriptions/retry-policy.js';
import type { SubscriptionManager } from '../../../subscriptions/subscription-manager.js';
import { HandlerDeliveryRepository } from './handler-delivery.repository.js';
import { handlerJob, type HandlerJobQueue } from './handler-jobs.js';

/** The queue, for adding the re-drives' jobs and removing the failed jobs they replace. */
export interface RedriveQueue extends HandlerJobQueue {
  remove(jobId: string): Promise<number>;
}

export interface FailedDeliveriesDeps {
  dataSource: DataSource;
  queue: RedriveQueue;
  subscriptions: SubscriptionManager;
  defaultRetry: RetryPolicy;
}

/** Re-drives are claimed and enqueued in transactions of this many records. */
const REDRIVE_BATCH = 500;

/**
 * The dead letters: handler deliveries that exhausted their policy (`getFailedDeliveries`), and
 * re-driving them (`retryFailed`) as new handler jobs with a fresh `maxAttempts`.
 */
export class FailedDeliveries {
  private readonly records: HandlerDeliveryRepository;

  constructor(private readonly deps: FailedDeliveriesDeps) {
    this.records = new HandlerDeliveryRepository(deps.dataSource);
  }

  /** Failed deliveries, oldest failure first. */
  async list(filter: FailedDeliveryFilter = {}): Promise<FailedDelivery[]> {
    const { where, params } = failedWhere(filter);
    const rows: Array<{
      event_id: string;
      handler: string;
      attempts: number;
      last_error: string | null;
      failed_at: Date;
    }> = await this.deps.dataSource.query(
      `SELECT d.event_id, d.handler, d.attempts, d.last_error, d.failed_at
         FROM event_handler_deliveries d JOIN event_store e ON e.id = d.event_id
         WHERE ${where}
         ORDER BY d.failed_at, d.event_id, d.handler`,
      params,
    );
    return rows.map((row) => ({
      eventId: row.event_id,
      handler: row.handler,
      attempts: row.attempts,
      lastError: row.last_error ?? '',
      failedAt: row.failed_at.toISOString(),
    }));
  }

  /**
   * Re-drives the matching failed deliveries: each record becomes `retrying` under a new run (and a
   * new job id, since the failed job of the last run may still be in the queue), its event
   * `processing`, and a handler job with a fresh `maxAttempts` is added. Only the failed handler runs.
   * The failed job of the last run is then removed from the queue: the delivery is no dead letter any
   * more, and a Retry of that old job (e.g. from a dashboard) would run the handler outside its run.
   * Resolves to how many deliveries were re-driven.
   */
  async retry(filter: FailedDeliveryFilter = {}): Promise<number> {
    const { where, params } = failedWhere(filter);
    // Deliveries that fail again while this call runs are left for the next call, not re-driven twice.
    const [{ cutoff }] = await this.deps.dataSource.query<[{ cutoff: Date }]>(`SELECT clock_timestamp() AS cutoff`);
    let total = 0;
    for (;;) {
      const { count, replaced } = await this.deps.dataSource.transaction((manager) =>
        this.redriveBatch(manager, where, [...params, cutoff]),
      );
      // After the commit: had it failed, the old jobs would still be the deliveries' dead letters.
      await this.removeReplaced(replaced);
      total += count;
      if (count < REDRIVE_BATCH) return total;
    }
  }

  /**
   * Removes the failed jobs of the runs just replaced. One that cannot be removed (a job being
   * retried from a dashboard right now is locked) is left: it no longer owns its record, so it
   * changes nothing, and it ages out of the queue with the other finished jobs.
   */
  private async removeReplaced(jobIds: readonly string[]): Promise<void> {
    await Promise.all(jobIds.map((jobId) => this.deps.queue.remove(jobId).catch(() => 0)));
  }

  /**
   * One batch, in one transaction: claim (`FOR UPDATE SKIP LOCKED`, so concurrent calls split the
   * work), mark, and add the jobs before committing. A handler job that starts before the commit
   * waits on the row lock when it writes its record, so it always sees its own run.
   */
  private async redriveBatch(
    manager: EntityManager,
    where: string,
    params: unknown[],
  ): Promise<{ count: number; replaced: string[] }> {
    const rows: Array<EventStoreRow & { handler: string; run: number; delivery_job_id: string | null }> =
      await manager.query(
        `SELECT d.handler, d.run, d.job_id AS delivery_job_id, ${storedEventColumns('e')}
       FROM event_handler_deliveries d JOIN event_store e ON e.id = d.event_id
       WHERE ${where} AND d.failed_at <= $${params.length}
       ORDER BY d.failed_at, d.event_id, d.handler
       LIMIT ${REDRIVE_BATCH}
       FOR UPDATE OF d SKIP LOCKED`,
        params,
      );
    if (rows.length === 0) return { count: 0, replaced: [] };
    const jobs = rows.map((row) => {
      const registered = this.deps.subscriptions.get(row.handler);
      return handlerJob({
        event: { ...toStoredEvent(row), status: 'processing' },
        handler: row.handler,
        attemptsBefore: 0,
        run: row.run + 1,
        policy: registered ? (registered.retry ?? this.deps.defaultRetry) : undefined,
        delay: 0,
      });
    });
    await this.records.markRedriven(
      manager,
      jobs.map((job, index) => ({
        eventId: job.data.event.id,
        handler: job.data.handler,
        run: rows[index].run + 1,
        jobId: job.opts.jobId!,
      })),
    );
    await this.deps.queue.addBulk(jobs);
    const replaced = rows.map((row) => row.delivery_job_id).filter((id): id is string => id !== null);
    return { count: rows.length, replaced };
  }
}

/** The WHERE clause of failed records, from a whitelist of conditions; every value is a parameter. */
function failedWhere(filter: FailedDeliveryFilter): { where: string; params: unknown[] } {
  const conditions = [`d.status = 'failed'`];
  const params: unknown[] = [];
  if (filter.eventId !== undefined) {
    params.push(uuidFilter(filter.eventId, 'eventId'));
    conditions.push(`d.event_id = $${params.length}`);
  }
  if (filter.handler !== undefined) {
    if (typeof filter.handler !== 'string' || filter.handler === '') {
      throw new EventValidationError([{ field: 'handler', message: 'must be a non-empty string (a handler name)' }]);
    }
    params.push(filter.handler);
    conditions.push(`d.handler = $${params.length}`);
  }
  if (filter.tenantId !== undefined) {
    params.push(uuidFilter(filter.tenantId, 'tenantId'));
    conditions.push(`e.tenant_id = $${params.length}`);
  }
  return { where: conditions.join(' AND '), params };
}

/** A given filter that is not a UUID is rejected before any SQL, never read as "every row". */
function uuidFilter(value: unknown, field: string): string {
  if (!isUuid(value)) throw new EventValidationError([{ field, message: 'must be a UUID' }]);
  return normalizeUuid(value);
}
