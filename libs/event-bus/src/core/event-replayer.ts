import type { LoggerService } from '@nestjs/common';
import { EventValidationError } from '../shared/errors.js';
import type { ReplayOptions, ReplayProgress, ReplayResult } from './event-bus.js';
import type { StoredEvent } from '../events/domain-event.js';
import type { EventStore, EventStreamFilter } from '../store/event-store.js';
import type { RegisteredHandler, SubscriptionManager } from '../subscriptions/subscription-manager.js';
import { describeError, runHandler } from '../subscriptions/handler-runner.js';
import type { HandlerOutcome, TransactionalRun } from '../subscriptions/handler-runner.js';
import type { EventBusInstruments } from '../observability/event-bus-instruments.js';
import { runInTransactionOf, type HandlerTransactions } from './ports/handler-inbox.js';

export interface EventReplayerDeps {
  eventStore: EventStore;
  subscriptions: SubscriptionManager;
  logger: LoggerService;
  /** `onProgress` is called after every this many events read, and once at the end. @default 1000 */
  progressEvery?: number;
  /** Timeout of one call of a handler that declares none, in ms (replays are bounded like deliveries). */
  handlerTimeoutMs?: number;
  /** Transactional handlers run in a transaction of the store's database, without the inbox check. */
  transactions: HandlerTransactions;
  /** The bus's metrics: a replayed call counts as `success` or `failed` (a replay does not retry). */
  instruments?: EventBusInstruments;
}

/**
 * `replayEvents`: streams the store (gap-safe, one page in memory at a time) in sequence order and
 * calls the matching handlers in this process, awaiting each event's handlers before the next event.
 * No queue, no retries, no status change: a replay re-feeds projections, it does not re-deliver.
 * So a transactional handler runs in a transaction with `context.manager`, but without the inbox
 * check: it is called for every replayed event, also those it handled already (a deliberate re-run).
 */
export class EventReplayer {
  private readonly progressEvery: number;
  private readonly transactions: TransactionalRun;

  constructor(private readonly deps: EventReplayerDeps) {
    this.progressEvery = deps.progressEvery ?? 1000;
    this.transactions = runInTransactionOf(deps.transactions);
  }

  async replay(from: Date, options: ReplayOptions = {}): Promise<ReplayResult> {
    checkDate(from, 'from');
    if (options.to !== undefined) checkDate(options.to, 'to');
    const progressEvery = checkProgressEvery(options.progressEvery) ?? this.progressEvery;
    const only = options.handlers === undefined ? undefined : new Set(options.handlers);
    const progress: ReplayProgress = { read: 0, events: 0, handlerCalls: 0, failed: 0, lastSequence: 0 };
    const filter: EventStreamFilter = { from };
    if (options.to !== undefined) filter.to = options.to;
    if (options.types !== undefined) filter.type = options.types;
    if (options.tenantId !== undefined) filter.tenantId = options.tenantId;
    if (options.workflowId !== undefined) filter.workflowId = options.workflowId;
    if (options.afterSequence !== undefined) filter.afterSequence = options.afterSequence;
    const { signal } = options;
    let stopped = signal?.aborted ?? false;
    // The replayable handlers of each routing table entry: `handlersFor` returns the same frozen array for a type
    // until the subscriptions change, so this filters once per type instead of allocating a new array per event.
    const selected = new WeakMap<readonly RegisteredHandler[], readonly RegisteredHandler[]>();
    const select = (routed: readonly RegisteredHandler[]): readonly RegisteredHandler[] => {
      let handlers = selected.get(routed);
      if (!handlers) {
        handlers = routed.filter((handler) => handler.replay && (only === undefined || only.has(handler.name)));
        selected.set(routed, handlers);
      }
      return handlers;
    };
    // The store's stream is gap-safe and includes every event committed before this call, waiting
    // (bounded, with a warning) for those an older running transaction still hides.
    // Leaving the loop early ends the stream (its generator's `return`), which releases what it holds.
    for await (const event of stopped ? [] : this.deps.eventStore.stream(filter)) {
      progress.read += 1;
      progress.lastSequence = event.sequenceNumber;
      const handlers = select(this.deps.subscriptions.handlersFor(event.type));
      if (handlers.length > 0) {
        progress.events += 1;
        progress.handlerCalls += handlers.length;
        progress.failed += await this.deliver(event, handlers);
      }
      if (progress.read % progressEvery === 0) options.onProgress?.({ ...progress });
      if (signal?.aborted) {
        stopped = true;
        break;
      }
    }
    options.onProgress?.({ ...progress });
    const result: ReplayResult = {
      events: progress.events,
      handlerCalls: progress.handlerCalls,
      failed: progress.failed,
    };
    if (stopped) result.stopped = true;
    return result;
  }

  /** Calls the handlers concurrently, as delivery does; resolves to how many threw. */
  private async deliver(event: StoredEvent, handlers: readonly RegisteredHandler[]): Promise<number> {
    // One handler (the usual case) is awaited alone: no array of outcomes per event.
    if (handlers.length === 1) return this.report(event, await this.run(handlers[0], event));
    const outcomes = await Promise.all(handlers.map((handler) => this.run(handler, event)));
    let failed = 0;
    for (const outcome of outcomes) failed += this.report(event, outcome);
    return failed;
  }

  /** Logs a failure; 1 for a failure, 0 for a success. */
  private report(event: StoredEvent, outcome: HandlerOutcome): number {
    if (outcome.ok) return 0;
    this.deps.instruments?.handled(outcome.handler, 'failed');
    this.deps.logger.warn(
      `Replay: handler ${outcome.handler} failed on event ${event.id} (${event.type}, #${event.sequenceNumber}): ` +
        describeError(outcome.error),
    );
    return 1;
  }

  private run(handler: RegisteredHandler, event: StoredEvent): Promise<HandlerOutcome> {
    return runHandler(
      handler,
      event,
      { attempt: 1, replay: true, handler: handler.name },
      { defaultTimeoutMs: this.deps.handlerTimeoutMs, instruments: this.deps.instruments },
      this.transactions,
    );
  }
}

function checkProgressEvery(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new EventValidationError([{ field: 'progressEvery', message: 'must be a positive integer' }]);
  }
  return value;
}

function checkDate(value: unknown, field: string): void {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new EventValidationError([{ field, message: 'must be a valid Date' }]);
  }
}
