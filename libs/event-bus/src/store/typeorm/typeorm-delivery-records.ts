import type { DataSource } from 'typeorm';
import type {
  DeliveryRecord,
  DeliveryRecordWrite,
  DeliveryRecords,
  EventDeliveryState,
  HandlerDeliveryStatus,
} from '../../core/ports/delivery-records.js';
import type { EventStatus } from '../../events/domain-event.js';
import { FINALIZE_EVENT_SQL } from './schema/finalize-event.sql.js';
import { INSERT_MISSING_DELIVERIES_SQL } from './schema/insert-missing-deliveries.sql.js';
import { DELIVERY_STATE_SQL, type DeliveryRow } from './schema/read-delivery-state.sql.js';
import { REOPEN_EVENT_SQL } from './schema/reopen-event.sql.js';
import { SAVE_ATTEMPT_SQL } from './schema/save-attempt.sql.js';
import { SETTLE_CARRIED_FAILURE_SQL } from './schema/settle-carried-failure.sql.js';

/**
 * The per-handler delivery records (`event_handler_deliveries`) and the statement that finishes an
 * event from them. Plain parameterized SQL (schema/), because each write depends on `ON CONFLICT`
 * rules and subqueries that a repository's `save` cannot express.
 */
export class TypeOrmDeliveryRecords implements DeliveryRecords {
  constructor(private readonly dataSource: DataSource) {}

  async eventState(eventId: string): Promise<EventDeliveryState | null> {
    const rows: Array<{ event_status: EventStatus } & Partial<DeliveryRow>> = await this.dataSource.query(
      DELIVERY_STATE_SQL,
      [eventId],
    );
    if (rows.length === 0) return null;
    const records = rows.filter((row) => row.handler != null).map((row) => toRecord(row as DeliveryRow));
    return { status: rows[0].event_status, records };
  }

  async insertMissing(records: readonly DeliveryRecordWrite[]): Promise<void> {
    if (records.length === 0) return;
    await this.dataSource.query(INSERT_MISSING_DELIVERIES_SQL, [
      records.map((record) => record.eventId),
      records.map((record) => record.handler),
      records.map((record) => record.status),
      records.map((record) => record.attempts),
      records.map((record) => record.lastError),
      records.map((record) => record.jobId),
    ]);
  }

  async saveAttempt(record: DeliveryRecordWrite): Promise<HandlerDeliveryStatus | null | undefined> {
    const rows: Array<{ previous: HandlerDeliveryStatus | null }> = await this.dataSource.query(SAVE_ATTEMPT_SQL, [
      record.eventId,
      record.handler,
      record.status,
      record.attempts,
      record.lastError,
      record.jobId,
    ]);
    return rows.length === 0 ? undefined : rows[0].previous;
  }

  async settleCarriedFailure(record: {
    eventId: string;
    handler: string;
    attempts: number;
    jobId: string;
  }): Promise<boolean> {
    // TypeORM's PostgreSQL driver answers an UPDATE with `[rows, affectedCount]`.
    const [, affected]: [unknown[], number] = await this.dataSource.query(SETTLE_CARRIED_FAILURE_SQL, [
      record.eventId,
      record.handler,
      record.attempts,
      record.jobId,
    ]);
    return affected > 0;
  }

  async reopenEvent(eventId: string): Promise<void> {
    await this.dataSource.query(REOPEN_EVENT_SQL, [eventId]);
  }

  async finalizeEvent(eventId: string, eventJobId: string): Promise<void> {
    await this.dataSource.query(FINALIZE_EVENT_SQL, [eventId, eventJobId]);
  }
}

function toRecord(row: DeliveryRow): DeliveryRecord {
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
