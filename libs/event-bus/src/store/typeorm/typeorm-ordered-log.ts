import type { LoggerService } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import {
  BucketLeaseLostError,
  partitionKey,
  type BucketClaim,
  type KeyProgress,
  type LeaseHolder,
  type OrderedHandlerStanding,
  type OrderedLog,
  type OrderedLogEntry,
  type OrderedLogPage,
  type OrderedPosition,
} from '../../core/ports/ordered-log.js';
import { postgresClientConfig } from './postgres-client-config.js';
import { PostgresChannelListener } from './postgres-channel-listener.js';
import { CLAIM_ORDERED_BUCKETS_SQL } from './schema/claim-ordered-buckets.sql.js';
import { ENSURE_ORDERED_CHECKPOINTS_SQL } from './schema/ensure-ordered-checkpoints.sql.js';
import { LOAD_KEY_PROGRESS_SQL } from './schema/load-key-progress.sql.js';
import { ORDERED_BUCKETS } from './schema/ordered-bucket.sql.js';
import { ORDERED_STANDING_SQL } from './schema/ordered-standing.sql.js';
import { READ_ORDERED_PAGE_SQL } from './schema/read-ordered-page.sql.js';
import { RECORD_KEY_PROGRESS_SQL } from './schema/record-key-progress.sql.js';
import { RECORD_KEYS_DONE_SQL } from './schema/record-keys-done.sql.js';
import { RELEASE_ORDERED_BUCKET_SQL, RELEASE_ORDERED_BUCKETS_SQL } from './schema/release-ordered-buckets.sql.js';
import { FORGET_KEY_PROGRESS_SQL, RESET_ORDERED_CHECKPOINTS_SQL } from './schema/reset-ordered-handler.sql.js';
import { SAVE_ORDERED_CHECKPOINT_SQL } from './schema/save-ordered-checkpoint.sql.js';
import { toStoredEvent, type EventStoreRow } from './schema/stored-event.mapper.js';
import { callStore } from './store-availability.js';

/** The channel the `event_store` trigger notifies on commit (migration 1764300006000). */
const APPENDED_CHANNEL = 'event_bus_appended';

type PositionRow = { transaction_id: string; sequence_number: string | number };

/** The ordered handlers' tables (checkpoints with leases, key progress) and log reads on PostgreSQL. */
export class TypeOrmOrderedLog implements OrderedLog {
  readonly buckets = ORDERED_BUCKETS;

  constructor(
    private readonly dataSource: DataSource,
    /** Deadline of each statement, in ms (`storeTimeoutMs`). */
    private readonly timeoutMs: number,
  ) {}

  async ensureCheckpoints(handler: string, startFrom: 'now' | 'beginning'): Promise<void> {
    await this.query(ENSURE_ORDERED_CHECKPOINTS_SQL, [handler, startFrom]);
  }

  async claimBuckets(handler: string, owner: string, leaseMs: number): Promise<BucketClaim> {
    const rows = await this.query<PositionRow & { bucket: number; epoch: number; share: number }>(
      CLAIM_ORDERED_BUCKETS_SQL,
      [handler, owner, leaseMs, ORDERED_BUCKETS],
    );
    return {
      leases: rows.map((row) => ({ bucket: row.bucket, epoch: row.epoch, checkpoint: toPosition(row) })),
      share: rows[0]?.share ?? ORDERED_BUCKETS,
    };
  }

  async releaseBuckets(handler: string, owner: string): Promise<void> {
    await this.query(RELEASE_ORDERED_BUCKETS_SQL, [handler, owner]);
  }

  async releaseBucket(handler: string, holder: LeaseHolder): Promise<void> {
    await this.query(RELEASE_ORDERED_BUCKET_SQL, [handler, holder.bucket, holder.owner, holder.epoch]);
  }

  async readPage(
    after: OrderedPosition,
    buckets: readonly number[],
    typeRegex: string,
    limit: number,
  ): Promise<OrderedLogPage> {
    const rows = await this.query<EventStoreRow & PositionRow & { bucket: number }>(READ_ORDERED_PAGE_SQL, [
      after.transactionId.toString(),
      after.sequenceNumber,
      typeRegex,
      buckets,
      limit,
    ]);
    const entries: OrderedLogEntry[] = rows.map((row) => ({
      event: toStoredEvent(row),
      position: toPosition(row),
      bucket: row.bucket,
    }));
    return { entries, full: rows.length === limit };
  }

  async saveCheckpoint(handler: string, holder: LeaseHolder, position: OrderedPosition): Promise<boolean> {
    const [{ held }] = await this.query<{ held: boolean }>(SAVE_ORDERED_CHECKPOINT_SQL, [
      handler,
      holder.bucket,
      holder.owner,
      holder.epoch,
      position.transactionId.toString(),
      position.sequenceNumber,
    ]);
    return held;
  }

  async loadKeyProgress(handler: string, keys: readonly string[]): Promise<Map<string, KeyProgress>> {
    const split = keys.map(splitKey);
    const rows = await this.query<
      PositionRow & { tenant_id: string; workflow_id: string; version: string | null; blocked_event_id: string | null }
    >(LOAD_KEY_PROGRESS_SQL, [handler, split.map(([tenant]) => tenant), split.map(([, workflow]) => workflow)]);
    return new Map(
      rows.map((row) => [
        `${row.tenant_id}/${row.workflow_id}`,
        {
          version: row.version === null ? null : Number(row.version),
          position: toPosition(row),
          blockedEventId: row.blocked_event_id,
        },
      ]),
    );
  }

  async recordKeyProgress(
    handler: string,
    holder: LeaseHolder,
    entry: OrderedLogEntry,
    outcome: 'done' | 'parked' | 'blocked',
    manager?: EntityManager,
    idleLimitMs?: number,
  ): Promise<boolean> {
    const { event, position } = entry;
    const [{ held, moved }] = await this.query<{ held: boolean; moved: boolean }>(
      RECORD_KEY_PROGRESS_SQL,
      [
        handler,
        holder.bucket,
        holder.owner,
        holder.epoch,
        event.tenantId,
        event.metadata?.workflowId ?? '',
        event.version ?? null,
        position.transactionId.toString(),
        position.sequenceNumber,
        outcome,
        event.id,
        manager && idleLimitMs !== undefined ? Math.max(1, Math.round(idleLimitMs)) : null,
      ],
      manager,
    );
    if (!held) throw new BucketLeaseLostError(handler, holder.bucket);
    return moved;
  }

  async recordKeysDone(
    handler: string,
    items: readonly { holder: LeaseHolder; entry: OrderedLogEntry }[],
  ): Promise<boolean[]> {
    if (items.length === 0) return [];
    const [{ leased }] = await this.query<{ leased: string[] }>(RECORD_KEYS_DONE_SQL, [
      handler,
      items[0].holder.owner,
      items.map(({ holder }) => holder.bucket),
      items.map(({ holder }) => holder.epoch),
      items.map(({ entry }) => entry.event.tenantId),
      items.map(({ entry }) => entry.event.metadata?.workflowId ?? ''),
      items.map(({ entry }) => entry.event.version),
      items.map(({ entry }) => entry.position.transactionId.toString()),
      items.map(({ entry }) => entry.position.sequenceNumber),
    ]);
    const held = new Set(leased);
    return items.map(({ entry }) => held.has(partitionKey(entry.event)));
  }

  async standing(handler: string, typeRegex: string): Promise<OrderedHandlerStanding> {
    const [row] = await this.query<{
      transaction_id: string | null;
      sequence_number: string | null;
      lag: string;
      parked: string;
      owners: string[];
    }>(ORDERED_STANDING_SQL, [handler, typeRegex]);
    return {
      position:
        row.transaction_id === null
          ? null
          : { transactionId: BigInt(row.transaction_id), sequenceNumber: Number(row.sequence_number) },
      lag: Number(row.lag),
      parked: Number(row.parked),
      owners: row.owners,
    };
  }

  async reset(handler: string, from: Date | 'beginning'): Promise<void> {
    await callStore(
      this.dataSource,
      undefined,
      (manager) =>
        manager.transaction(async (transaction) => {
          await transaction.query(RESET_ORDERED_CHECKPOINTS_SQL, [handler, from === 'beginning' ? null : from]);
          await transaction.query(FORGET_KEY_PROGRESS_SQL, [handler]);
        }),
      this.timeoutMs,
    );
  }

  async onAppended(listener: () => void, logger: LoggerService): Promise<() => Promise<void>> {
    const channel = new PostgresChannelListener(
      postgresClientConfig(this.dataSource),
      APPENDED_CHANNEL,
      listener,
      logger,
      { name: 'Ordered handlers listener', fallback: 'Ordered handlers poll for new events meanwhile.' },
    );
    await channel.start();
    return () => channel.stop(this.timeoutMs);
  }

  private query<Row>(sql: string, params: unknown[], manager?: EntityManager): Promise<Row[]> {
    return callStore(this.dataSource, manager, (target) => target.query<Row[]>(sql, params), this.timeoutMs);
  }
}

function toPosition(row: PositionRow): OrderedPosition {
  return { transactionId: BigInt(row.transaction_id), sequenceNumber: Number(row.sequence_number) };
}

/** `tenant/workflow`: a tenant id (a UUID) holds no '/', a workflow id may. */
function splitKey(key: string): [string, string] {
  const slash = key.indexOf('/');
  return [key.slice(0, slash), key.slice(slash + 1)];
}
