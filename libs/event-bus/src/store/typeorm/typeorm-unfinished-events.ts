import type { DataSource } from 'typeorm';
import type { RetryingDelivery, UnfinishedEvent, UnfinishedEvents } from '../../core/ports/unfinished-events.js';
import type { StoredEvent } from '../../events/domain-event.js';
import { UNFINISHED_AMONG_SQL, UNFINISHED_EVENTS_SQL } from './schema/load-unfinished.sql.js';
import {
  LAST_SEQUENCE_SQL,
  UNFINISHED_BY_ID_SQL,
  UNFINISHED_SQL,
  type UnfinishedRow,
} from './schema/read-unfinished.sql.js';
import { RETRYING_DELIVERIES_SQL } from './schema/retrying-deliveries.sql.js';
import { toStoredEvent, type EventStoreRow } from './schema/stored-event.mapper.js';

/** The reads of lost-job recovery (see the port). */
export class TypeOrmUnfinishedEvents implements UnfinishedEvents {
  constructor(private readonly dataSource: DataSource) {}

  async lastSequence(): Promise<number> {
    const [{ last }] = await this.dataSource.query<[{ last: string }]>(LAST_SEQUENCE_SQL);
    return Number(last);
  }

  async unfinishedAfter(afterSequence: number, limit: number, staleAfterMs: number): Promise<UnfinishedEvent[]> {
    const rows: UnfinishedRow[] = await this.dataSource.query(UNFINISHED_SQL, [
      afterSequence,
      limit,
      Math.round(staleAfterMs),
    ]);
    return rows.map(toUnfinished);
  }

  async unfinishedByIds(ids: readonly string[], staleAfterMs: number): Promise<UnfinishedEvent[]> {
    const rows: UnfinishedRow[] = await this.dataSource.query(UNFINISHED_BY_ID_SQL, [ids, Math.round(staleAfterMs)]);
    return rows.map(toUnfinished);
  }

  async loadUnfinished(ids: readonly string[]): Promise<StoredEvent[]> {
    const rows: EventStoreRow[] = await this.dataSource.query(UNFINISHED_EVENTS_SQL, [ids]);
    return rows.map((row) => toStoredEvent(row));
  }

  async unfinishedAmong(ids: readonly string[]): Promise<string[]> {
    const rows: Array<{ id: string }> = await this.dataSource.query(UNFINISHED_AMONG_SQL, [ids]);
    return rows.map((row) => row.id);
  }

  async retryingDeliveries(eventIds: readonly string[]): Promise<RetryingDelivery[]> {
    const rows: Array<{ event_id: string; handler: string; attempts: number; run: number; job_id: string | null }> =
      await this.dataSource.query(RETRYING_DELIVERIES_SQL, [eventIds]);
    return rows.map((row) => ({
      eventId: row.event_id,
      handler: row.handler,
      attempts: row.attempts,
      run: row.run,
      jobId: row.job_id,
    }));
  }
}

function toUnfinished(row: UnfinishedRow): UnfinishedEvent {
  return {
    id: row.id,
    sequenceNumber: Number(row.sequence_number),
    status: row.status,
    jobId: row.job_id,
    stale: row.stale,
  };
}
