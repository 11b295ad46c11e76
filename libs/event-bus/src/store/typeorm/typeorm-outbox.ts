import type { LoggerService } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import type { Outbox, OutboxClaim, OutboxListener, OutboxNotice } from '../../core/ports/outbox.js';
import type { StoredEvent } from '../../events/domain-event.js';
import { isUuid } from '../../events/uuid.js';
import { PostgresChannelListener } from './postgres-channel-listener.js';
import { postgresClientConfig } from './postgres-client-config.js';
import { CLAIM_UNENQUEUED_SQL } from './schema/claim-outbox.sql.js';
import { MAX_NOTIFIED_IDS, NOTIFY_OUTBOX_SQL, OUTBOX_CHANNEL } from './schema/notify-outbox.sql.js';
import { OUTBOX_OLDEST_AGE_SQL } from './schema/outbox-oldest.sql.js';
import { MARK_ENQUEUED_SQL } from './schema/record-job-ids.sql.js';
import { toStoredEvent, type EventStoreRow } from './schema/stored-event.mapper.js';
import { callStore } from './store-availability.js';

/** The outbox on `event_store` (schema/notify-outbox.sql.ts), with LISTEN/NOTIFY for commits. */
export class TypeOrmOutbox implements Outbox {
  constructor(
    private readonly dataSource: DataSource,
    private readonly storeTimeoutMs: number,
  ) {}

  claimPending(claim: OutboxClaim, dispatch: (events: StoredEvent[]) => Promise<string[]>): Promise<number> {
    return this.dataSource.transaction(async (manager) => {
      const rows: EventStoreRow[] = await manager.query(CLAIM_UNENQUEUED_SQL, [
        claim.batchSize,
        Math.round(claim.olderThanMs),
        claim.ids ?? null,
      ]);
      if (rows.length === 0) return 0;
      const events = rows.map((row) => toStoredEvent(row));
      const jobIds = await dispatch(events);
      await manager.query(MARK_ENQUEUED_SQL, [events.map((event) => event.id), jobIds]);
      return rows.length;
    });
  }

  /** On a connection of its own, closed past the deadline: a health probe of a frozen server leaks none. */
  async oldestPendingAgeMs(): Promise<number | null> {
    const rows = await callStore(
      this.dataSource,
      undefined,
      (manager) => manager.query<Array<{ age_ms: number }>>(OUTBOX_OLDEST_AGE_SQL),
      this.storeTimeoutMs,
    );
    return rows.length === 0 ? null : Math.max(0, Math.round(rows[0].age_ms));
  }

  listener(onNotice: (notice: OutboxNotice) => void, logger: LoggerService): OutboxListener {
    // Anyone may NOTIFY this channel: only well-formed ids reach SQL.
    const receive = (payload: string): void => {
      const ids = payload.split(',').filter(isUuid);
      onNotice(ids.length > 0 ? { ids } : { all: true });
    };
    return new PostgresChannelListener(postgresClientConfig(this.dataSource), OUTBOX_CHANNEL, receive, logger, {
      name: 'Outbox listener',
      fallback: 'The periodic sweep keeps enqueueing stored events meanwhile.',
    });
  }

  async notifyOnCommit(ids: readonly string[], manager: EntityManager): Promise<void> {
    if (ids.length === 0) return;
    // Past the payload limit of NOTIFY, an empty payload asks the relay to look at every row.
    const payload = ids.length <= MAX_NOTIFIED_IDS ? ids.join(',') : '';
    await callStore(this.dataSource, manager, (m) => m.query(NOTIFY_OUTBOX_SQL, [payload]), this.storeTimeoutMs);
  }
}
