/**
 * The store side of ordered handlers (DESIGN.md 6.6): the log read in commit-safe order, the
 * checkpoint and lease of each (handler, bucket), and the progress of each partition key. The
 * ordered consumer (ordered/) depends on this port only; store/typeorm and store/in-memory implement it.
 */
import type { LoggerService } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { StoredEvent } from '../../events/domain-event.js';

/** A commit-safe position: `(transaction_id, sequence_number)`; `{ 0n, 0 }` is before every event. */
export interface OrderedPosition {
  transactionId: bigint;
  sequenceNumber: number;
}

export const LOG_START: OrderedPosition = Object.freeze({ transactionId: 0n, sequenceNumber: 0 });

/** One event of the log with where it stands and which bucket its partition key falls in. */
export interface OrderedLogEntry {
  event: StoredEvent;
  position: OrderedPosition;
  bucket: number;
}

export interface OrderedLogPage {
  entries: OrderedLogEntry[];
  /** Whether the page was cut at its limit (more may follow at once). */
  full: boolean;
}

/** A bucket this process owns now, with its checkpoint. */
export interface BucketLease {
  bucket: number;
  /** Raised each time the bucket changes hands (or is reset): fenced writes name the epoch they hold. */
  epoch: number;
  checkpoint: OrderedPosition;
}

/** What a heartbeat found: the buckets held, and how many this owner should hold at most. */
export interface BucketClaim {
  leases: BucketLease[];
  share: number;
}

/** Who writes: the owner and the lease it holds. */
export interface LeaseHolder {
  owner: string;
  bucket: number;
  epoch: number;
}

/** What one partition key of a handler has handled. */
export interface KeyProgress {
  /** The last version handled, for a workflow's key (`null` for a tenant's events without a workflow). */
  version: number | null;
  position: OrderedPosition;
  /** The event the key waits on since it exhausted its policy (`onExhausted: 'block'`). */
  blockedEventId: string | null;
}

/** How one handler stands, for `getOrderedHandlers()`. */
export interface OrderedHandlerStanding {
  /** The lowest checkpoint of its buckets (`null`: no bucket has one yet). */
  position: OrderedPosition | null;
  /** Events of its types after the checkpoints (an upper bound: some may be handled already, ahead of the checkpoint). */
  lag: number;
  parked: number;
  owners: string[];
}

/** Thrown by a fenced write when this process no longer owns the bucket (its lease ran out and was taken). */
export class BucketLeaseLostError extends Error {
  constructor(handler: string, bucket: number) {
    super(`Ordered handler ${handler} lost bucket ${bucket} to another process`);
    this.name = 'BucketLeaseLostError';
  }
}

export interface OrderedLog {
  /** Number of hash buckets the partition keys are spread over (the unit of ownership). */
  readonly buckets: number;
  /**
   * Creates the handler's checkpoints where missing: at the log's start (`'beginning'`) or at its
   * current end (`'now'`). Idempotent: an existing checkpoint is kept.
   */
  ensureCheckpoints(handler: string, startFrom: 'now' | 'beginning'): Promise<void>;
  /**
   * A heartbeat: records the owner as a live member of the handler's consumers, renews its leases,
   * takes free or expired buckets up to its fair share (the bucket count over the live members,
   * rounded up), and resolves to every bucket it holds now and that share.
   */
  claimBuckets(handler: string, owner: string, leaseMs: number): Promise<BucketClaim>;
  /** Gives this owner's buckets back and ends its membership (a graceful stop: others take them at once). */
  releaseBuckets(handler: string, owner: string): Promise<void>;
  /** Gives one bucket back, under the lease held (the owner holds more than its share). */
  releaseBucket(handler: string, holder: LeaseHolder): Promise<void>;
  /**
   * Up to `limit` events after `after`, of `buckets`, whose type matches `typeRegex`, in commit-safe
   * order below the horizon (nothing later can commit before them).
   */
  readPage(
    after: OrderedPosition,
    buckets: readonly number[],
    typeRegex: string,
    limit: number,
  ): Promise<OrderedLogPage>;
  /** Moves a bucket's checkpoint forward (never back); fenced: a lost lease writes nothing and resolves false. */
  saveCheckpoint(handler: string, holder: LeaseHolder, position: OrderedPosition): Promise<boolean>;
  /** The progress of these keys (absent: nothing handled yet). */
  loadKeyProgress(handler: string, keys: readonly string[]): Promise<Map<string, KeyProgress>>;
  /**
   * Records that the key handled (or parked, or blocked on) `entry`, unless its progress is there
   * already: resolves false then (a transactional handler skips the call). Fenced by the lease: rejects
   * with `BucketLeaseLostError` when the holder lost the bucket; with `manager`, inside that
   * transaction, where it also locks the lease until the commit. `idleLimitMs` then bounds how long
   * that transaction may sit idle, so a process frozen inside it cannot keep the bucket for ever.
   */
  recordKeyProgress(
    handler: string,
    holder: LeaseHolder,
    entry: OrderedLogEntry,
    outcome: 'done' | 'parked' | 'blocked',
    manager?: EntityManager,
    idleLimitMs?: number,
  ): Promise<boolean>;
  /**
   * `recordKeyProgress(…, 'done')` for several keys (one event each) in one statement, without a
   * transaction of the caller's. Resolves, per item, false where the holder had lost the bucket.
   */
  recordKeysDone(
    handler: string,
    items: readonly { holder: LeaseHolder; entry: OrderedLogEntry }[],
  ): Promise<boolean[]>;
  standing(handler: string, typeRegex: string): Promise<OrderedHandlerStanding>;
  /** Moves every checkpoint of the handler to `from` and forgets its keys' progress (a rebuild). */
  reset(handler: string, from: Date | 'beginning'): Promise<void>;
  /**
   * Calls `listener` when events may have been appended (a hint; pages are the truth); `logger` hears
   * of a lost connection. Resolves to the function that stops listening.
   */
  onAppended(listener: () => void, logger: LoggerService): Promise<() => Promise<void>>;
}

/** The partition key of an event: its tenant and workflow (events without one share their tenant's key). */
export function partitionKey(event: Pick<StoredEvent, 'tenantId' | 'metadata'>): string {
  return `${event.tenantId}/${event.metadata?.workflowId ?? ''}`;
}
