import type { LoggerService } from '@nestjs/common';
import type { StoredEvent } from '../events/domain-event.js';
import {
  BucketLeaseLostError,
  partitionKey,
  type LeaseHolder,
  type OrderedLog,
  type OrderedLogEntry,
  type OrderedLogPage,
  type KeyProgress,
} from '../core/ports/ordered-log.js';
import { MicroBatcher } from '../shared/micro-batcher.js';
import { logHandlerFailure } from '../subscriptions/handler-failure-log.js';
import {
  runHandler,
  type HandlerLimits,
  type HandlerOutcome,
  type TransactionalRun,
} from '../subscriptions/handler-runner.js';
import type { HandlerTransactions } from '../core/ports/handler-inbox.js';
import { retryDelay } from '../subscriptions/retry-delay.js';
import type { RetryPolicy } from '../subscriptions/retry-policy.js';
import type { RegisteredHandler } from '../subscriptions/subscription-manager.js';
import { BucketProgress, comparePositions } from './bucket-progress.js';
import { KeyLane, type QueuedEvent } from './key-lane.js';
import { typeRegex } from './type-regex.js';

/** Where an ordered handler's exhausted deliveries are recorded (the failed deliveries of the ledger). */
export interface OrderedFailures {
  /** Records the delivery as failed (`getFailedDeliveries`, `retryFailed`). */
  record(event: StoredEvent, handler: string, attempts: number, error: Error): Promise<void>;
  /** Whether a recorded failure has since succeeded through `retryFailed` (a blocked key then moves on). */
  succeededSince(eventId: string, handler: string): Promise<boolean>;
}

export interface OrderedConsumerOptions {
  log: OrderedLog;
  handler: RegisteredHandler;
  /** This process, as lease owner. */
  owner: string;
  /** A dead owner's buckets are taken over within this, in ms. */
  takeoverMs: number;
  /** Keys handled at once. */
  concurrency: number;
  defaultRetry: RetryPolicy;
  limits: HandlerLimits;
  failures: OrderedFailures;
  /** Retry at once instead of after the policy's delay (the in-memory bus without `realDelays`). */
  immediateRetries?: boolean;
  /** Transactions of the store's database, for transactional handlers; `atomic` when they can roll back. */
  transactions: HandlerTransactions & { atomic: boolean };
  logger: LoggerService;
}

/** Events read per page. */
const PAGE_SIZE = 500;
/** Events held in key queues at most; reading pauses beyond it. */
const MAX_BUFFERED = 5_000;
/** The safety-net poll when no notification comes (a lost connection, an appender in another database role). */
const IDLE_POLL_MS = 1_000;
/** Checkpoints are written at most this often (a key's own progress is written with each event). */
const CHECKPOINT_EVERY_MS = 200;

/**
 * Feeds one ordered handler (DESIGN.md 6.6) in this process: takes buckets of partition keys under
 * leases, reads their events from the log in commit-safe order after the checkpoints, and runs each
 * key's events one at a time in version order, keys in parallel up to `concurrency`. A failed call is
 * retried in place (the key waits; the others go on); an exhausted one is recorded as a failed delivery
 * and parks or blocks the key. Leases, not an in-process lock, keep a key with one process: a process
 * that dies stops renewing and its buckets are taken within `takeoverMs`; every progress write is fenced
 * by the lease's epoch, so a process that lost a bucket (frozen past its lease) cannot move it on.
 */
export class OrderedConsumer {
  private readonly buckets = new Map<number, BucketProgress>();
  /** Buckets held beyond this process's fair share: no new calls start there, and they go back once idle. */
  private readonly draining = new Set<number>();
  /** Calls running, per bucket. */
  private readonly runningIn = new Map<number, number>();
  private readonly lanes = new Map<string, KeyLane>();
  /** Lanes with work that wait for a free slot. */
  private readonly ready = new Set<KeyLane>();
  private readonly running = new Set<Promise<void>>();
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private readonly regex: string;
  private readonly leaseMs: number;
  private buffered = 0;
  private active = 0;
  private stopping = false;
  private loop?: Promise<void>;
  private leaseTimer?: NodeJS.Timeout;
  private checkpointTimer?: NodeJS.Timeout;
  private wakeUp?: () => void;
  private woken = false;
  private unlisten?: () => Promise<void>;
  private readonly progress: MicroBatcher<{ holder: LeaseHolder; entry: OrderedLogEntry }, boolean>;

  constructor(private readonly options: OrderedConsumerOptions) {
    this.regex = typeRegex(options.handler.patterns);
    // Renewed three times per lease and claimed as often, so a dead owner's buckets are free after one
    // lease and taken within a third more: together under `takeoverMs`.
    this.leaseMs = Math.max(Math.floor((options.takeoverMs * 2) / 3), 300);
    this.progress = new MicroBatcher((items) => options.log.recordKeysDone(options.handler.name, items));
  }

  get name(): string {
    return this.options.handler.name;
  }

  async start(): Promise<void> {
    const { log, handler } = this.options;
    await log.ensureCheckpoints(handler.name, handler.ordered?.startFrom ?? 'now');
    this.unlisten = await log.onAppended(() => this.wake(), this.options.logger);
    await this.refreshLeases().catch((error: unknown) => this.warn('could not take its buckets yet', error));
    this.leaseTimer = setInterval(() => void this.tick(), Math.floor(this.leaseMs / 3));
    this.leaseTimer.unref();
    this.loop = this.readLoop();
  }

  /** Stops reading; waits for running calls (aborted through `limits.stop` by the bus), saves, releases. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearInterval(this.leaseTimer);
    clearTimeout(this.checkpointTimer);
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.retryTimers.clear();
    this.wake();
    await this.loop;
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
    await this.saveCheckpoints().catch((error: unknown) => this.warn('could not save its checkpoints', error));
    await this.options.log
      .releaseBuckets(this.name, this.options.owner)
      .catch((error: unknown) => this.warn('could not release its buckets', error));
    await this.unlisten?.().catch(() => undefined);
  }

  /** Drops what this process holds of the handler (after a reset): it claims and reads afresh. */
  async restart(): Promise<void> {
    this.dropBuckets([...this.buckets.keys()]);
    await this.refreshLeases();
  }

  /**
   * Whether the consumer has nothing left to do for now: no call running or waiting for a retry, no
   * queued event, and nothing unread in the log for its buckets (a blocked key counts as settled:
   * it waits for `retryFailed`). For `waitForIdle` in tests.
   */
  async settled(): Promise<boolean> {
    if (this.running.size > 0 || this.retryTimers.size > 0 || this.ready.size > 0) return false;
    for (const lane of this.lanes.values()) if (lane.size > 0 && lane.blockedOn === undefined) return false;
    const owned = [...this.buckets.values()];
    if (owned.length === 0) return true;
    let from = owned[0].readPosition;
    for (const bucket of owned) if (comparePositions(bucket.readPosition, from) < 0) from = bucket.readPosition;
    const page = await this.options.log.readPage(
      from,
      owned.map((bucket) => bucket.bucket),
      this.regex,
      1,
    );
    return page.entries.every((entry) => this.buckets.get(entry.bucket)?.hasRead(entry.position) ?? true);
  }

  /** What it is doing, for the message of an idle wait that ran out. */
  describeWork(): string {
    return `ordered ${this.name}: ${this.running.size} running, ${this.retryTimers.size} retrying, ${this.buffered} queued`;
  }

  wake(): void {
    if (this.wakeUp) this.wakeUp();
    else this.woken = true;
  }

  private async tick(): Promise<void> {
    try {
      await this.refreshLeases();
      await this.checkBlockedKeys();
    } catch (error) {
      this.warn('could not renew its leases', error);
    }
  }

  private async refreshLeases(): Promise<void> {
    if (this.stopping) return;
    const { log, owner } = this.options;
    const { leases, share } = await log.claimBuckets(this.name, owner, this.leaseMs);
    if (this.stopping) return;
    const held = new Set<number>();
    for (const lease of leases) {
      held.add(lease.bucket);
      const current = this.buckets.get(lease.bucket);
      if (current?.epoch === lease.epoch) continue;
      if (current) this.dropBuckets([lease.bucket]);
      this.buckets.set(lease.bucket, new BucketProgress(lease.bucket, lease.epoch, lease.checkpoint));
    }
    this.dropBuckets([...this.buckets.keys()].filter((bucket) => !held.has(bucket)));
    // Beyond the fair share (another process joined): the highest buckets are drained and given back.
    const ranked = [...this.buckets.keys()].sort((a, b) => a - b);
    const beyond = new Set(ranked.slice(Math.max(share, 1)));
    for (const bucket of [...this.draining]) {
      if (beyond.has(bucket)) continue;
      this.draining.delete(bucket); // within the share again
      for (const lane of this.lanes.values()) if (lane.bucket === bucket) this.pump(lane);
    }
    for (const bucket of beyond) this.draining.add(bucket);
    await this.releaseDrained();
    this.wake();
  }

  /**
   * Gives back the draining buckets whose calls have all ended: their checkpoint saved, their queued
   * events forgotten (the next owner reads them from the checkpoint), their lease released. A key's
   * call in flight is waited for, so two processes never run one key at once.
   */
  private async releaseDrained(): Promise<void> {
    if (this.stopping) return; // stop() gives every bucket back
    for (const bucket of [...this.draining]) {
      const progress = this.buckets.get(bucket);
      if (!progress) {
        this.draining.delete(bucket);
        continue;
      }
      if ((this.runningIn.get(bucket) ?? 0) > 0) continue;
      const holder = { owner: this.options.owner, bucket, epoch: progress.epoch };
      const mark = progress.advance();
      if (mark) await this.options.log.saveCheckpoint(this.name, holder, mark);
      if (this.buckets.get(bucket) !== progress || (this.runningIn.get(bucket) ?? 0) > 0) continue;
      this.dropBuckets([bucket]);
      this.draining.delete(bucket);
      await this.options.log.releaseBucket(this.name, holder);
    }
  }

  /** Forgets buckets this process no longer holds, and their keys' queued events. */
  private dropBuckets(buckets: number[]): void {
    if (buckets.length === 0) return;
    const dropped = new Set(buckets);
    for (const bucket of buckets) this.buckets.delete(bucket);
    for (const [key, lane] of this.lanes) {
      if (!dropped.has(lane.bucket)) continue;
      this.buffered -= lane.size;
      this.lanes.delete(key);
      this.ready.delete(lane);
    }
  }

  private async readLoop(): Promise<void> {
    while (!this.stopping) {
      let full = false;
      if (this.buckets.size > this.draining.size && this.buffered < MAX_BUFFERED) {
        try {
          full = await this.readOnce();
        } catch (error) {
          this.warn('could not read the log', error);
        }
      }
      if (!full && !this.stopping) await this.sleep(IDLE_POLL_MS);
    }
  }

  /** Reads one page after the lowest read position of the owned buckets; resolves whether it was full. */
  private async readOnce(): Promise<boolean> {
    const owned = [...this.buckets.values()].filter((bucket) => !this.draining.has(bucket.bucket));
    if (owned.length === 0) return false;
    let from = owned[0].readPosition;
    for (const bucket of owned) if (comparePositions(bucket.readPosition, from) < 0) from = bucket.readPosition;
    const page = await this.options.log.readPage(
      from,
      owned.map((bucket) => bucket.bucket),
      this.regex,
      PAGE_SIZE,
    );
    await this.dispatch(page, owned);
    return page.full;
  }

  private async dispatch(page: OrderedLogPage, owned: BucketProgress[]): Promise<void> {
    const unknown = [...new Set(page.entries.map((entry) => partitionKey(entry.event)))].filter(
      (key) => !this.lanes.has(key),
    );
    const progress =
      unknown.length > 0 ? await this.options.log.loadKeyProgress(this.name, unknown) : new Map<string, KeyProgress>();
    const touched = new Set<KeyLane>();
    for (const entry of page.entries) {
      const bucket = this.buckets.get(entry.bucket);
      // A bucket lost (or retaken under a new epoch) while the page was read: its new state reads afresh.
      if (!bucket || !owned.includes(bucket) || bucket.hasRead(entry.position)) continue;
      const key = partitionKey(entry.event);
      let lane = this.lanes.get(key);
      if (!lane) {
        lane = new KeyLane(key, entry.bucket, progress.get(key));
        this.lanes.set(key, lane);
      }
      const slot = bucket.track(entry.position);
      if (lane.covers(entry)) {
        slot.done = true; // handled before this process took the bucket
        continue;
      }
      lane.enqueue({ entry, slot, attempt: 1 });
      this.buffered += 1;
      touched.add(lane);
    }
    const last = page.entries.at(-1)?.position;
    if (last) for (const bucket of owned) if (this.buckets.get(bucket.bucket) === bucket) bucket.readThrough(last);
    for (const lane of touched) this.pump(lane);
    this.scheduleCheckpoint();
  }

  /** Starts the lane's next event if it may run, else leaves it for later. */
  private pump(lane: KeyLane): void {
    if (this.stopping || this.draining.has(lane.bucket)) return;
    const next = lane.next();
    if (!next) {
      this.ready.delete(lane);
      if (lane.idle) this.lanes.delete(lane.key);
      return;
    }
    if (this.active >= this.options.concurrency) {
      this.ready.add(lane);
      return;
    }
    this.ready.delete(lane);
    lane.busy = true;
    this.active += 1;
    const { bucket } = lane;
    this.runningIn.set(bucket, (this.runningIn.get(bucket) ?? 0) + 1);
    const run = this.deliver(lane, next).finally(() => {
      this.running.delete(run);
      this.active -= 1;
      this.runningIn.set(bucket, (this.runningIn.get(bucket) ?? 1) - 1);
      if (this.draining.has(bucket)) {
        this.releaseDrained().catch((error: unknown) => this.warn('could not give a bucket back', error));
      }
      this.pumpReady();
    });
    this.running.add(run);
  }

  private pumpReady(): void {
    for (const lane of [...this.ready]) {
      if (this.active >= this.options.concurrency) return;
      this.pump(lane);
    }
  }

  private holderOf(lane: KeyLane): LeaseHolder | undefined {
    const bucket = this.buckets.get(lane.bucket);
    return bucket && { owner: this.options.owner, bucket: bucket.bucket, epoch: bucket.epoch };
  }

  private async deliver(lane: KeyLane, queued: QueuedEvent): Promise<void> {
    const holder = this.holderOf(lane);
    if (!holder || this.lanes.get(lane.key) !== lane) return; // the bucket went meanwhile
    const { handler, defaultRetry } = this.options;
    let outcome: HandlerOutcome;
    try {
      outcome = await this.call(queued, holder);
    } catch (error) {
      lane.busy = false;
      if (error instanceof BucketLeaseLostError) return; // its new owner goes on from the recorded progress
      this.warn(`could not record the progress of key ${lane.key}; retrying it`, error);
      this.retryLater(lane, 1_000);
      return;
    }
    if (outcome.ok) {
      this.finish(lane, queued);
      return;
    }
    const policy = handler.retry ?? defaultRetry;
    const final = !outcome.retryable || queued.attempt >= policy.maxAttempts;
    logHandlerFailure(this.options.logger, {
      handler: handler.name,
      event: queued.entry.event,
      attempt: queued.attempt,
      maxAttempts: policy.maxAttempts,
      error: outcome.error,
      final,
      note: final ? '' : ` — its key ${lane.key} waits for the retry`,
    });
    this.options.limits.instruments?.handled(handler.name, final ? 'failed' : 'retry');
    if (!final) {
      const delay = this.options.immediateRetries ? 0 : retryDelay(policy, queued.attempt, outcome.error);
      queued.attempt += 1;
      lane.busy = false;
      this.retryLater(lane, delay);
      return;
    }
    await this.exhausted(lane, queued, holder, outcome.error);
  }

  /** Calls the handler; a transactional one in a transaction that also records the key's progress. */
  private async call(queued: QueuedEvent, holder: LeaseHolder): Promise<HandlerOutcome> {
    const { log, handler, limits, transactions } = this.options;
    const { entry, attempt } = queued;
    const context = { attempt, replay: false, handler: handler.name };
    // A transactional handler's progress is its inbox: recorded first, in its transaction, so a repeated
    // delivery finds it and skips the call, and a concurrent one waits for this commit. A store without
    // real transactions (in memory) could not roll that record back: there it is written after the call.
    const progressInTransaction = handler.transactional && transactions.atomic;
    const inTransaction: TransactionalRun = (_eventId, _handler, call) =>
      transactions.run(async (manager) => {
        const fresh =
          !progressInTransaction ||
          (await log.recordKeyProgress(handler.name, holder, entry, 'done', manager, this.leaseMs));
        if (fresh) {
          await call(manager);
        }
      });
    const outcome = await runHandler(handler, entry.event, context, limits, inTransaction);
    if (!outcome.ok && outcome.error instanceof BucketLeaseLostError) throw outcome.error;
    // The key waits for its record (so a crash repeats at most this event); keys finishing meanwhile share the statement.
    if (outcome.ok && !progressInTransaction && !(await this.progress.submit({ holder, entry }))) {
      throw new BucketLeaseLostError(handler.name, holder.bucket);
    }
    return outcome;
  }

  private async exhausted(lane: KeyLane, queued: QueuedEvent, holder: LeaseHolder, error: Error): Promise<void> {
    const { log, handler, failures } = this.options;
    const block = handler.ordered?.onExhausted === 'block';
    try {
      await failures.record(queued.entry.event, handler.name, queued.attempt, error);
      await log.recordKeyProgress(handler.name, holder, queued.entry, block ? 'blocked' : 'parked');
    } catch (failure) {
      lane.busy = false;
      if (failure instanceof BucketLeaseLostError) return;
      this.warn(`could not record the failed delivery of ${queued.entry.event.id}; retrying it`, failure);
      this.retryLater(lane, 1_000);
      return;
    }
    if (block) {
      lane.busy = false;
      lane.blockedOn = queued;
      this.options.logger.warn(
        `Ordered handler ${handler.name} blocks key ${lane.key} at event ${queued.entry.event.id} until ` +
          'retryFailed() re-drives it',
      );
      return;
    }
    this.finish(lane, queued);
  }

  private finish(lane: KeyLane, queued: QueuedEvent): void {
    lane.finish(queued);
    lane.busy = false;
    this.buffered -= 1;
    this.scheduleCheckpoint();
    this.pump(lane);
  }

  /** Runs the lane's next event (the same one, for a retry) after `delay` ms; the key waits, the others go on. */
  private retryLater(lane: KeyLane, delay: number): void {
    if (this.stopping) return;
    lane.busy = true;
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      lane.busy = false;
      this.pump(lane);
    }, delay);
    this.retryTimers.add(timer);
  }

  /** A blocked key moves on once its failed delivery succeeded through `retryFailed`. */
  private async checkBlockedKeys(): Promise<void> {
    for (const lane of this.lanes.values()) {
      const blocked = lane.blockedOn;
      if (!blocked) continue;
      if (!(await this.options.failures.succeededSince(blocked.entry.event.id, this.name))) continue;
      const holder = this.holderOf(lane);
      if (!holder || lane.blockedOn !== blocked) continue;
      await this.options.log.recordKeyProgress(this.name, holder, blocked.entry, 'done');
      this.finish(lane, blocked);
    }
  }

  private scheduleCheckpoint(): void {
    if (this.checkpointTimer || this.stopping) return;
    this.checkpointTimer = setTimeout(() => {
      this.checkpointTimer = undefined;
      this.saveCheckpoints().catch((error: unknown) => this.warn('could not save its checkpoints', error));
    }, CHECKPOINT_EVERY_MS);
    this.checkpointTimer.unref();
  }

  private async saveCheckpoints(): Promise<void> {
    for (const bucket of [...this.buckets.values()]) {
      const mark = bucket.advance();
      if (!mark) continue;
      const holder = { owner: this.options.owner, bucket: bucket.bucket, epoch: bucket.epoch };
      if (await this.options.log.saveCheckpoint(this.name, holder, mark)) bucket.markSaved(mark);
      else if (this.buckets.get(bucket.bucket) === bucket) this.dropBuckets([bucket.bucket]);
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
    });
  }

  private warn(what: string, error: unknown): void {
    this.options.logger.warn(
      `Ordered handler ${this.name} ${what}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

export type { OrderedLogEntry };
