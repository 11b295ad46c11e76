import type {
  DeliveryRecord,
  DeliveryRecordWrite,
  DeliveryRecords,
  EventDeliveryState,
  HandlerDeliveryStatus,
} from '../../core/ports/delivery-records.js';
import type { DeliveryRow, InMemoryTables } from './in-memory-tables.js';

/**
 * The per-handler delivery records in memory, with the rules of their SQL
 * (store/typeorm/schema/): a record exists once per event and handler, only the job owning its
 * current run changes it, and the event is finished once none of its records is `retrying`.
 */
export class InMemoryDeliveryRecords implements DeliveryRecords {
  constructor(private readonly tables: InMemoryTables) {}

  async eventState(eventId: string): Promise<EventDeliveryState | null> {
    const row = this.tables.event(eventId);
    if (!row) return null;
    return { status: row.status, records: this.tables.deliveriesOf(eventId).map(toRecord) };
  }

  async insertMissing(records: readonly DeliveryRecordWrite[]): Promise<void> {
    for (const record of records) {
      if (this.tables.delivery(record.eventId, record.handler)) continue;
      this.tables.insertDelivery({ ...record, failedAt: this.failedAt(record.status), run: 0 });
    }
  }

  async saveAttempt(record: DeliveryRecordWrite): Promise<HandlerDeliveryStatus | null | undefined> {
    const row = this.tables.delivery(record.eventId, record.handler);
    if (!row) {
      this.tables.insertDelivery({ ...record, failedAt: this.failedAt(record.status), run: 0 });
      return null;
    }
    if (row.jobId !== record.jobId) return undefined; // an earlier run's job: not its record any more
    const previous = row.status;
    row.status = record.status;
    row.attempts = record.attempts;
    row.lastError = record.lastError ?? row.lastError;
    row.failedAt = this.failedAt(record.status);
    return previous;
  }

  async settleCarriedFailure(record: {
    eventId: string;
    handler: string;
    attempts: number;
    jobId: string;
  }): Promise<boolean> {
    const row = this.tables.delivery(record.eventId, record.handler);
    if (!row || row.jobId !== record.jobId || row.status !== 'retrying') return false;
    row.status = 'failed';
    row.attempts = record.attempts;
    row.failedAt = this.tables.failureTime();
    return true;
  }

  async reopenEvent(eventId: string): Promise<void> {
    const row = this.tables.event(eventId);
    if (row?.status === 'failed') this.tables.updateEvent(row, { status: 'processing' });
  }

  async finalizeEvent(eventId: string, eventJobId: string): Promise<void> {
    const row = this.tables.event(eventId);
    if (!row || (row.status !== 'pending' && row.status !== 'processing')) return;
    const records = this.tables.deliveriesOf(eventId);
    if (records.some((record) => record.status === 'retrying')) return;
    const failed = records.some((record) => record.status === 'failed');
    this.tables.updateEvent(row, { status: failed ? 'failed' : 'processed', jobId: row.jobId ?? eventJobId });
  }

  private failedAt(status: HandlerDeliveryStatus): Date | null {
    return status === 'failed' ? this.tables.failureTime() : null;
  }
}

function toRecord(row: DeliveryRow): DeliveryRecord {
  return { ...row };
}
