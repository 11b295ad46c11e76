import type { DataSource, EntityManager } from 'typeorm';
import type { EventStatus } from '../../../events/domain-event.js';
import { lockEventRowsInIdOrder } from '../../../store/typeorm/row-lock-order.sql.js';
import type { HandlerDeliveryStatus } from './handler-delivery.entity.js';

/** One row of `event_handler_deliveries`. */
export interface DeliveryRecord {
  eventId: string;
  handler: string;
  status: HandlerDeliveryStatus;
  /** Attempts made in the current run. */
  attempts: number;
  lastError: string | null;
  failedAt: Date | null;
  run: number;
  jobId: string | null;
}

/** A record as a processor writes it; `failed_at` is set by the database when `status` is `failed`. */
export interface DeliveryRecordWrite {
  eventId: string;
  handler: string;
  status: HandlerDeliveryStatus;
  attempts: number;
  lastError: string | null;
  jobId: string | null;
}

interface DeliveryRow {
  event_id: string;
  handler: string;
  status: HandlerDeliveryStatus;
  attempts: number;
  last_error: string | null;
  failed_at: Date | null;
  run: number;
  job_id: string | null;
}

/**
 * The SQL of the per-handler delivery records, and the one statement that finishes an event from them.
 * Plain parameterized SQL, because each write depends on `ON CONFLICT` rules and subqueries that a
 * repository's `save` cannot express.
 */
export class HandlerDeliveryRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** The event's status and its handler records, or `null` when the event is not in the store. */
  async eventState(eventId: string): Promise<{ status: EventStatus; records: DeliveryRecord[] } | null> {
    const rows: Array<{ event_status: EventStatus } & Partial<DeliveryRow>> = await this.dataSource.query(
      `SELECT e.status AS event_status, d.event_id, d.handler, d.status, d.attempts, d.last_error, d.failed_at,
              d.run, d.job_id
       FROM event_store e LEFT JOIN event_handler_deliveries d ON d.event_id = e.id
       WHERE e.id = $1`,
      [eventId],
    );
    if (rows.length === 0) return null;
    const records = rows.filter((row) => row.handler != null).map((row) => toRecord(row as DeliveryRow));
    return { status: rows[0].event_status, records };
  }

  /**
   * The records of an event job whose handlers did not all succeed: one per handler it ran (succeeded
   * ones too, so a later re-delivery of the event never runs them again). A row that exists already
   * belongs to a handler job and is left alone.
   */
  async insertMissing(records: readonly DeliveryRecordWrite[]): Promise<void> {
    if (records.length === 0) return;
    await this.dataSource.query(
      `INSERT INTO event_handler_deliveries (event_id, handler, status, attempts, last_error, job_id, failed_at)
       SELECT v.event_id, v.handler, v.status, v.attempts, v.last_error, v.job_id,
              CASE WHEN v.status = 'failed' THEN NOW() END
       FROM unnest($1::uuid[], $2::varchar[], $3::varchar[], $4::int[], $5::text[], $6::varchar[])
         AS v(event_id, handler, status, attempts, last_error, job_id)
       ON CONFLICT (event_id, handler) DO NOTHING`,
      [
        records.map((record) => record.eventId),
        records.map((record) => record.handler),
        records.map((record) => record.status),
        records.map((record) => record.attempts),
        records.map((record) => record.lastError),
        records.map((record) => record.jobId),
      ],
    );
  }

  /**
   * The outcome of one attempt of a handler job. Only the job that owns the record's current run
   * (`job_id`) may change it, so a stale job of an earlier run cannot undo a re-drive. Resolves to the
   * record's status before the write (`null`: there was none), or `undefined` when it was not this
   * job's to write. A `failed` one means the job was retried outside the library (Bull Board,
   * `job.retry()`), after the library had settled the delivery.
   */
  async saveAttempt(record: DeliveryRecordWrite): Promise<HandlerDeliveryStatus | null | undefined> {
    const rows: Array<{ previous: HandlerDeliveryStatus | null }> = await this.dataSource.query(
      `WITH prior AS (SELECT status FROM event_handler_deliveries WHERE event_id = $1 AND handler = $2)
       INSERT INTO event_handler_deliveries AS d (event_id, handler, status, attempts, last_error, job_id, failed_at)
       VALUES ($1, $2, $3::varchar, $4, $5, $6, CASE WHEN $3::varchar = 'failed' THEN NOW() END)
       ON CONFLICT (event_id, handler) DO UPDATE SET
         status = EXCLUDED.status,
         attempts = EXCLUDED.attempts,
         last_error = COALESCE(EXCLUDED.last_error, d.last_error),
         failed_at = EXCLUDED.failed_at,
         updated_at = NOW()
       WHERE d.job_id IS NOT DISTINCT FROM EXCLUDED.job_id
       RETURNING (SELECT status FROM prior) AS previous`,
      [record.eventId, record.handler, record.status, record.attempts, record.lastError, record.jobId],
    );
    return rows.length === 0 ? undefined : rows[0].previous;
  }

  /**
   * Marks `failed` the `retrying` record this job owns, keeping its `last_error` (the failure the job
   * carries). Resolves false when the record is not in that state: the job already settled it, and
   * is running again because it was retried (from a dashboard, or by BullMQ after a stall).
   */
  async settleCarriedFailure(record: {
    eventId: string;
    handler: string;
    attempts: number;
    jobId: string;
  }): Promise<boolean> {
    // TypeORM's PostgreSQL driver answers an UPDATE with `[rows, affectedCount]`.
    const [, affected]: [unknown[], number] = await this.dataSource.query(
      `UPDATE event_handler_deliveries
       SET status = 'failed', attempts = $3, failed_at = NOW(), updated_at = NOW()
       WHERE event_id = $1 AND handler = $2 AND job_id = $4 AND status = 'retrying'`,
      [record.eventId, record.handler, record.attempts, record.jobId],
    );
    return affected > 0;
  }

  /**
   * A failed event whose delivery was retried outside the library is unfinished again, as a re-drive
   * would have left it, so that `finalizeEvent` decides its status from its records once more.
   */
  async reopenEvent(eventId: string): Promise<void> {
    await this.dataSource.query(`UPDATE event_store SET status = 'processing' WHERE id = $1 AND status = 'failed'`, [
      eventId,
    ]);
  }

  /**
   * Finishes the event once none of its handler deliveries is still `retrying`: `failed` when one
   * of them failed, `processed` otherwise. One statement, so two workers finishing sibling handlers
   * at the same moment agree: each runs it after committing its own record, and the later of the two
   * sees both records. The event job's id is recorded too when it is missing (see status.sql.ts).
   */
  async finalizeEvent(eventId: string, eventJobId: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE event_store e SET status = CASE
         WHEN EXISTS (SELECT 1 FROM event_handler_deliveries d WHERE d.event_id = e.id AND d.status = 'failed')
         THEN 'failed' ELSE 'processed' END,
         job_id = coalesce(e.job_id, $2)
       WHERE e.id = $1
         AND e.status IN ('pending', 'processing')
         AND NOT EXISTS (
           SELECT 1 FROM event_handler_deliveries d WHERE d.event_id = e.id AND d.status = 'retrying')`,
      [eventId, eventJobId],
    );
  }

  /** Re-drive: each record becomes `retrying` under its new run and job, with a fresh attempt count. */
  async markRedriven(
    manager: EntityManager,
    redrives: ReadonlyArray<{ eventId: string; handler: string; run: number; jobId: string }>,
  ): Promise<void> {
    await manager.query(
      `UPDATE event_handler_deliveries d
       SET status = 'retrying', attempts = 0, failed_at = NULL, run = v.run, job_id = v.job_id, updated_at = NOW()
       FROM unnest($1::uuid[], $2::varchar[], $3::int[], $4::varchar[]) AS v(event_id, handler, run, job_id)
       WHERE d.event_id = v.event_id AND d.handler = v.handler`,
      [
        redrives.map((redrive) => redrive.eventId),
        redrives.map((redrive) => redrive.handler),
        redrives.map((redrive) => redrive.run),
        redrives.map((redrive) => redrive.jobId),
      ],
    );
    await manager.query(
      `${lockEventRowsInIdOrder('$1')}
       UPDATE event_store AS e SET status = 'processing' FROM locked WHERE e.id = locked.id AND e.status <> 'processing'`,
      [[...new Set(redrives.map((redrive) => redrive.eventId))]],
    );
  }
}

export function toRecord(row: DeliveryRow): DeliveryRecord {
  return {
    eventId: row.event_id,
    handler: row.handler,
    status: row.status,
    attempts: row.attempts,
    lastError: row.last_error,
    failedAt: row.failed_at,
    run: row.run,
    jobId: row.job_id,
  };
}
