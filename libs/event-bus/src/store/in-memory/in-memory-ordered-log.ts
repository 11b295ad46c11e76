import {
  BucketLeaseLostError,
  partitionKey,
  type BucketClaim,
  type BucketLease,
  type KeyProgress,
  type LeaseHolder,
  type OrderedHandlerStanding,
  type OrderedLog,
  type OrderedLogPage,
  type OrderedPosition,
  type OrderedLogEntry,
} from '../../core/ports/ordered-log.js';
import { comparePositions } from '../../ordered/bucket-progress.js';
import { typeSubject } from '../../ordered/type-regex.js';
import { toStoredEvent, type EventRow, type InMemoryTables } from './in-memory-tables.js';

const BUCKETS = 16;

interface Checkpoint {
  position: OrderedPosition;
  owner: string | null;
  leaseUntil: number;
  epoch: number;
}

interface KeyRow extends KeyProgress {
  parked: number;
}

/**
 * The ordered handlers' tables of the in-memory store, with the same rules as PostgreSQL's: one
 * process, so every event is committed and in order the moment it is appended (its position is its
 * sequence number), and leases only ever have this process as owner.
 */
export class InMemoryOrderedLog implements OrderedLog {
  readonly buckets = BUCKETS;
  private readonly checkpoints = new Map<string, Checkpoint[]>();
  private readonly keys = new Map<string, Map<string, KeyRow>>();

  constructor(private readonly tables: InMemoryTables) {}

  async ensureCheckpoints(handler: string, startFrom: 'now' | 'beginning'): Promise<void> {
    if (this.checkpoints.has(handler)) return;
    const start = startFrom === 'now' ? positionOf(this.tables.lastSequence) : positionOf(0);
    this.checkpoints.set(handler, this.freshCheckpoints(start, 0));
  }

  /** One process: the share is every bucket. */
  async claimBuckets(handler: string, owner: string, leaseMs: number): Promise<BucketClaim> {
    const now = Date.now();
    const leases: BucketLease[] = [];
    for (const [bucket, checkpoint] of this.handlerCheckpoints(handler).entries()) {
      if (checkpoint.owner !== owner) {
        if (checkpoint.owner !== null && checkpoint.leaseUntil > now) continue;
        checkpoint.owner = owner;
        checkpoint.epoch += 1;
      }
      checkpoint.leaseUntil = now + leaseMs;
      leases.push({ bucket, epoch: checkpoint.epoch, checkpoint: checkpoint.position });
    }
    return { leases, share: BUCKETS };
  }

  async releaseBuckets(handler: string, owner: string): Promise<void> {
    for (const checkpoint of this.checkpoints.get(handler) ?? []) {
      if (checkpoint.owner === owner) checkpoint.owner = null;
    }
  }

  async releaseBucket(handler: string, holder: LeaseHolder): Promise<void> {
    const checkpoint = this.heldCheckpoint(handler, holder);
    if (checkpoint) checkpoint.owner = null;
  }

  async readPage(
    after: OrderedPosition,
    buckets: readonly number[],
    typeRegex: string,
    limit: number,
  ): Promise<OrderedLogPage> {
    const regex = new RegExp(typeRegex);
    const wanted = new Set(buckets);
    const entries: OrderedLogEntry[] = [];
    // Rows are in sequence order, which is the commit order here.
    for (const row of this.tables.events) {
      if (row.sequenceNumber <= after.sequenceNumber || !regex.test(typeSubject(row.type))) continue;
      const event = toStoredEvent(row);
      const bucket = bucketOf(partitionKey(event));
      if (!wanted.has(bucket)) continue;
      entries.push({ event, position: positionOf(row.sequenceNumber), bucket });
      if (entries.length === limit) break;
    }
    return { entries, full: entries.length === limit };
  }

  async saveCheckpoint(handler: string, holder: LeaseHolder, position: OrderedPosition): Promise<boolean> {
    const checkpoint = this.heldCheckpoint(handler, holder);
    if (!checkpoint) return false;
    if (comparePositions(position, checkpoint.position) > 0) checkpoint.position = position;
    return true;
  }

  async loadKeyProgress(handler: string, keys: readonly string[]): Promise<Map<string, KeyProgress>> {
    const rows = this.keys.get(handler);
    const found = new Map<string, KeyProgress>();
    for (const key of keys) {
      const row = rows?.get(key);
      if (row) found.set(key, { version: row.version, position: row.position, blockedEventId: row.blockedEventId });
    }
    return found;
  }

  async recordKeyProgress(
    handler: string,
    holder: LeaseHolder,
    entry: OrderedLogEntry,
    outcome: 'done' | 'parked' | 'blocked',
  ): Promise<boolean> {
    if (!this.heldCheckpoint(handler, holder)) throw new BucketLeaseLostError(handler, holder.bucket);
    let rows = this.keys.get(handler);
    if (!rows) this.keys.set(handler, (rows = new Map<string, KeyRow>()));
    const key = partitionKey(entry.event);
    const version = entry.event.version ?? null;
    const row = rows.get(key);
    if (outcome === 'blocked') {
      if (row) row.blockedEventId = entry.event.id;
      else {
        const before = version === null ? null : version - 1;
        rows.set(key, { version: before, position: positionOf(0), blockedEventId: entry.event.id, parked: 0 });
      }
      return true;
    }
    if (row) {
      const forward =
        version !== null && row.version !== null
          ? row.version < version
          : comparePositions(row.position, entry.position) < 0;
      if (!forward) return false;
    }
    rows.set(key, {
      version,
      position: entry.position,
      blockedEventId: null,
      parked: (row?.parked ?? 0) + (outcome === 'parked' ? 1 : 0),
    });
    return true;
  }

  async recordKeysDone(
    handler: string,
    items: readonly { holder: LeaseHolder; entry: OrderedLogEntry }[],
  ): Promise<boolean[]> {
    const held: boolean[] = [];
    for (const { holder, entry } of items) {
      try {
        await this.recordKeyProgress(handler, holder, entry, 'done');
        held.push(true);
      } catch (error) {
        if (!(error instanceof BucketLeaseLostError)) throw error;
        held.push(false);
      }
    }
    return held;
  }

  async standing(handler: string, typeRegex: string): Promise<OrderedHandlerStanding> {
    const checkpoints = this.checkpoints.get(handler);
    if (!checkpoints) return { position: null, lag: 0, parked: 0, owners: [] };
    const regex = new RegExp(typeRegex);
    let lag = 0;
    for (const row of this.tables.events) {
      if (!regex.test(typeSubject(row.type))) continue;
      const checkpoint = checkpoints[bucketOf(partitionKey(toStoredEvent(row)))];
      if (row.sequenceNumber > checkpoint.position.sequenceNumber) lag += 1;
    }
    const now = Date.now();
    const lowest = checkpoints.reduce(
      (low, { position }) => (comparePositions(position, low) < 0 ? position : low),
      checkpoints[0].position,
    );
    let parked = 0;
    for (const row of this.keys.get(handler)?.values() ?? []) parked += row.parked;
    const owners = [
      ...new Set(checkpoints.filter((c) => c.owner !== null && c.leaseUntil > now).map((c) => c.owner as string)),
    ];
    return { position: lowest, lag, parked, owners };
  }

  async reset(handler: string, from: Date | 'beginning'): Promise<void> {
    let start = positionOf(0);
    if (from !== 'beginning') {
      const first = this.tables.events.find((row: EventRow) => new Date(row.timestamp) >= from);
      start = positionOf(first ? first.sequenceNumber - 1 : this.tables.lastSequence);
    }
    const epoch = Math.max(0, ...(this.checkpoints.get(handler) ?? []).map((checkpoint) => checkpoint.epoch)) + 1;
    this.checkpoints.set(handler, this.freshCheckpoints(start, epoch));
    this.keys.delete(handler);
  }

  async onAppended(listener: () => void): Promise<() => Promise<void>> {
    const known = new Set<string>();
    const stop = this.tables.onChange((eventId) => {
      // Every change is announced; only a newly stored event matters here.
      if (known.has(eventId)) return;
      known.add(eventId);
      if (known.size > 10_000) known.clear();
      listener();
    });
    return async () => void stop();
  }

  private handlerCheckpoints(handler: string): Checkpoint[] {
    let checkpoints = this.checkpoints.get(handler);
    if (!checkpoints) this.checkpoints.set(handler, (checkpoints = this.freshCheckpoints(positionOf(0), 0)));
    return checkpoints;
  }

  private heldCheckpoint(handler: string, holder: LeaseHolder): Checkpoint | undefined {
    const checkpoint = this.checkpoints.get(handler)?.[holder.bucket];
    return checkpoint?.owner === holder.owner && checkpoint.epoch === holder.epoch ? checkpoint : undefined;
  }

  private freshCheckpoints(position: OrderedPosition, epoch: number): Checkpoint[] {
    return Array.from({ length: BUCKETS }, () => ({ position, owner: null, leaseUntil: 0, epoch }));
  }
}

function positionOf(sequenceNumber: number): OrderedPosition {
  return { transactionId: BigInt(sequenceNumber), sequenceNumber };
}

/** Any stable spread of keys over buckets will do in memory (PostgreSQL's hash is used in the database). */
function bucketOf(key: string): number {
  let hash = 2166136261;
  for (let index = 0; index < key.length; index += 1) hash = Math.imul(hash ^ key.charCodeAt(index), 16777619);
  return (hash >>> 0) % BUCKETS;
}
