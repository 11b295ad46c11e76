import type { EntityManager } from 'typeorm';
import type { StoredEvent } from '../events/domain-event.js';
import type { RetryPolicy } from './retry-policy.js';

/** What a handler is told about the delivery it is running in. */
export interface EventContext {
  /** 1 for the first try, 2 for the first retry, … */
  attempt: number;
  /** True when the call comes from `replayEvents`. */
  replay: boolean;
  /** The handler's stable name (`ClassName.methodName` unless named). */
  handler: string;
  /** The BullMQ job this delivery runs in (absent in replays). */
  jobId?: string;
  /**
   * Aborted when the attempt runs past its `timeoutMs` (the attempt then fails with
   * `HandlerTimeoutError`) and when shutdown stops waiting for the handler (`shutdownTimeoutMs`).
   * Pass it to what the handler awaits (`fetch`, database drivers, …) so the work stops with it.
   */
  signal: AbortSignal;
  /**
   * The `EntityManager` of the transaction a transactional handler (`transactional: true`) runs in.
   * What it writes through it commits together with the record that it handled the event, so a
   * repeated delivery does not call it again; a throw (or a timeout) rolls it all back.
   * `undefined` for other handlers, and on the in-memory bus (`./testing`), which has no database.
   */
  manager?: EntityManager;
}

export type EventHandler<P = unknown> = (event: StoredEvent<P>, context: EventContext) => unknown;

export interface SubscribeOptions {
  /** Retry policy of this handler; falls back to the bus's `defaultRetry`. */
  retry?: RetryPolicy;
  /** Stable handler name: it keys failure records and retry jobs. */
  name?: string;
  /** Take part in `replayEvents` (default true). */
  replay?: boolean;
  /**
   * Longest one attempt may run, in ms: past it the attempt fails with `HandlerTimeoutError` (and is
   * retried under the policy) and `context.signal` is aborted. Falls back to the bus's
   * `handlerTimeoutMs`; no limit by default.
   */
  timeoutMs?: number;
  /**
   * Feed the handler from a checkpointed, gap-safe reader of the log instead of queue jobs: the events
   * of one partition key (tenant + workflow) one at a time in version order, keys in parallel; one
   * process at a time per key (DESIGN.md 6.6). Default false.
   */
  ordered?: boolean;
  /** Ordered handlers: where one that has no checkpoint yet starts. @default 'now' */
  startFrom?: 'now' | 'beginning';
  /**
   * Ordered handlers: what an event whose retry policy is exhausted does to its key: `'park'` records
   * the failed delivery and goes on, `'block'` holds the key until `retryFailed` re-drives it. @default 'park'
   */
  onExhausted?: 'park' | 'block';
  /**
   * Run each delivery inside a transaction of the event store's database, with its `EntityManager`
   * as `context.manager`: what the handler writes through it happens exactly once per event, even
   * when a crash, a stall or a re-drive delivers the event again (DESIGN.md 6.7). Replays run it in
   * a transaction too, but on purpose again. Default false.
   */
  transactional?: boolean;
}

/** A registered handler; pass it to `unsubscribe`. */
export interface Subscription {
  readonly id: string;
  readonly patterns: readonly string[];
  readonly handler: string;
}
