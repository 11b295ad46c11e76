/**
 * The publish path: store, dispatch through the transport, and hand the job ids to the recorder,
 * which writes them after `publish` resolves (job-id-recorder.ts). Concurrent `publish` calls are
 * coalesced (one INSERT, one dispatch per batch) without the caller asking; a call that arrives while
 * two batches are in flight joins the next one, and a lone call goes out at once. A call with
 * `expectedVersion` takes a path of its own (its own INSERT), so its version check, and the
 * `EventConcurrencyError` of a lost race, concern that caller alone.
 */
import type { LoggerService } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import {
  ConcurrentAppendError,
  EventBusNotReadyError,
  EventConflictError,
  EventValidationError,
} from '../shared/errors.js';
import type { NewDomainEvent, StoredEvent } from '../events/domain-event.js';
import type { AppendedEvent, EventStore, EventWriteOptions } from '../store/event-store.js';
import { MicroBatcher } from '../shared/micro-batcher.js';
import { withDeadline } from '../shared/with-deadline.js';
import { JobIdRecorder } from './job-id-recorder.js';
import type { JobIdRecords } from './ports/delivery-records.js';
import type { EventTransport } from './ports/event-transport.js';
import type { Outbox } from './ports/outbox.js';
import { NO_INSTRUMENTS, type EventBusInstruments } from '../observability/event-bus-instruments.js';

interface PublishCall {
  events: NewDomainEvent[];
  /** A `publish` (one event): its validation error names no batch position. */
  single: boolean;
}

type CallOutcome = { ok: true; appended: AppendedEvent[] } | { ok: false; error: unknown };

/** Calls per batch; one call (a `publishAll`) may hold many events. */
const MAX_CALLS_PER_BATCH = 500;

/**
 * Two batches at once, so one batch's dispatch overlaps the next one's INSERT, and a slow round
 * trip does not hold every publish behind it. Concurrent publishes have no order among them either
 * way; a caller that awaits each publish gets its own in order.
 */
const BATCHES_IN_FLIGHT = 2;

export class EventPublisher {
  private readonly batcher: MicroBatcher<PublishCall, CallOutcome>;
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly jobIds: JobIdRecorder;
  private enqueueFailing = false;
  private closed = false;

  constructor(
    private readonly eventStore: EventStore,
    private readonly transport: Pick<EventTransport, 'dispatch'>,
    /** The store's side of the publish path; its statements are bounded by the store's deadline. */
    private readonly ledger: { jobIds: JobIdRecords; outbox: Pick<Outbox, 'notifyOnCommit'> },
    private readonly logger: LoggerService,
    /** Counts the events each publish stored (`event_bus_published_total`). */
    private readonly instruments: EventBusInstruments = NO_INSTRUMENTS,
  ) {
    this.jobIds = new JobIdRecorder(ledger.jobIds, logger);
    this.batcher = new MicroBatcher((calls) => this.flush(calls), {
      maxBatch: MAX_CALLS_PER_BATCH,
      maxInFlight: BATCHES_IN_FLIGHT,
    });
  }

  /** False once `close` was called. */
  get accepting(): boolean {
    return !this.closed;
  }

  /** Stores the events (idempotently), dispatches those this call inserted, resolves to the stored events. */
  async publish(events: NewDomainEvent[], single: boolean): Promise<StoredEvent[]> {
    this.refuseIfClosed();
    const submitted = this.batcher.submit({ events, single });
    this.inFlight.add(submitted);
    try {
      const outcome = await submitted;
      if (!outcome.ok) throw outcome.error;
      return outcome.appended.map(({ event }) => event);
    } finally {
      this.inFlight.delete(submitted);
    }
  }

  /**
   * Stores the events only if their workflow's stream is at `expectedVersion` (else the store's
   * `EventConcurrencyError`, and nothing stored or enqueued), then dispatches those it inserted.
   * Not micro-batched: one caller's version check must not decide another's INSERT.
   */
  async publishAtVersion(events: NewDomainEvent[], single: boolean, expectedVersion: number): Promise<StoredEvent[]> {
    this.refuseIfClosed();
    const published = (async () => {
      const appended = await this.append(events, single, { expectedVersion });
      await this.dispatchInserted(appended);
      return appended.map(({ event }) => event);
    })();
    this.inFlight.add(published);
    try {
      return await published;
    } finally {
      this.inFlight.delete(published);
    }
  }

  /**
   * Stores the events in the caller's transaction and notifies the relay there too: PostgreSQL
   * delivers the notification only if that transaction commits, and nothing on a rollback.
   */
  async publishInTransaction(
    events: NewDomainEvent[],
    single: boolean,
    manager: EntityManager,
    expectedVersion?: number,
  ): Promise<StoredEvent[]> {
    this.refuseIfClosed();
    const appended = await this.append(events, single, { manager, expectedVersion });
    const inserted = appended.filter((entry) => entry.inserted).map((entry) => entry.event);
    const fresh = uniqueIds(inserted);
    await this.ledger.outbox.notifyOnCommit(fresh, manager);
    // Counted once stored in the caller's transaction: a rollback after this is not seen here.
    this.countPublished(inserted);
    return appended.map(({ event }) => event);
  }

  /**
   * Refuses new publishes and waits, at most `timeoutMs`, for those in flight (their batch is stored,
   * and enqueued or left to the relay) and then for the job-id records they left behind, so nothing
   * runs after shutdown. A store that hangs is not waited for; those callers get whatever their
   * write ends with.
   */
  async close(timeoutMs: number): Promise<void> {
    this.closed = true;
    const pending = this.inFlight.size;
    const settled = Promise.allSettled([...this.inFlight]).then(() => this.jobIds.drained());
    await withDeadline(settled, timeoutMs, 'Publishing').catch(() => {
      this.logger.warn(
        `Stopped waiting for ${pending} publish call(s) and the job-id records still in flight after ${timeoutMs} ms.`,
      );
    });
  }

  private refuseIfClosed(): void {
    if (this.closed) {
      throw new EventBusNotReadyError(
        'The event bus is closed: it stopped publishing once its running handlers had finished. ' +
          'Create a new event bus.',
      );
    }
  }

  private async flush(calls: readonly PublishCall[]): Promise<CallOutcome[]> {
    const outcomes = await this.store(calls);
    await this.dispatchInserted(outcomes.flatMap((outcome) => (outcome.ok ? outcome.appended : [])));
    return outcomes;
  }

  /** Enqueues the events this call inserted and shows their job ids in their metadata. */
  private async dispatchInserted(appended: readonly AppendedEvent[]): Promise<void> {
    const fresh = appended.filter((entry) => entry.inserted);
    this.countPublished(fresh.map((entry) => entry.event));
    const jobIds = await this.enqueue(fresh.map((entry) => entry.event));
    for (const { event } of fresh) {
      const jobId = jobIds.get(event.id);
      if (jobId !== undefined) event.metadata = { ...event.metadata, jobId };
    }
  }

  /**
   * One append for the whole batch. If it is refused because of one caller's events (invalid, a
   * conflicting duplicate, a workflow whose version races it kept losing), nothing of it was stored:
   * each call is then appended on its own, so only the offending caller sees the error.
   */
  private async store(calls: readonly PublishCall[]): Promise<CallOutcome[]> {
    const only = calls.length === 1 ? calls[0] : undefined;
    if (only) {
      try {
        return [{ ok: true, appended: await this.append(only.events, only.single) }];
      } catch (error) {
        return [{ ok: false, error }];
      }
    }
    let appended: AppendedEvent[];
    try {
      appended = await this.eventStore.append(calls.flatMap((call) => call.events));
    } catch (error) {
      if (!isOneCallsError(error)) throw error;
      const outcomes: CallOutcome[] = [];
      for (const call of calls) {
        try {
          outcomes.push({ ok: true, appended: await this.append(call.events, call.single) });
        } catch (callError) {
          outcomes.push({ ok: false, error: callError });
        }
      }
      return outcomes;
    }
    let offset = 0;
    return calls.map((call) => {
      const slice = appended.slice(offset, offset + call.events.length);
      offset += call.events.length;
      return { ok: true, appended: slice };
    });
  }

  private async append(
    events: NewDomainEvent[],
    single: boolean,
    options: EventWriteOptions = {},
  ): Promise<AppendedEvent[]> {
    try {
      return await this.eventStore.append(events, withoutUndefined(options));
    } catch (error) {
      // `publish` took one event, not a batch: its error should not speak of "event #0 of the batch".
      if (single && error instanceof EventValidationError && error.index !== undefined) {
        throw new EventValidationError(error.issues, { cause: error.cause });
      }
      throw error;
    }
  }

  /**
   * Enqueues, and has the job ids recorded after `publish` resolves; resolves to event id → job id
   * for what was enqueued. Never rejects: the events are stored, and whatever did not happen here
   * the relay does later.
   */
  private async enqueue(events: StoredEvent[]): Promise<Map<string, string>> {
    const recorded = new Map<string, string>();
    const unique = [...new Map(events.map((event) => [event.id, event])).values()];
    if (unique.length === 0) return recorded;
    const ids = unique.map((event) => event.id);
    let jobIds: string[];
    try {
      jobIds = await this.transport.dispatch(unique, { failFast: true, fresh: true });
    } catch (error) {
      this.reportEnqueueFailure(error as Error);
      return recorded;
    }
    this.reportEnqueueRecovery();
    ids.forEach((id, index) => recorded.set(id, jobIds[index]));
    this.jobIds.record(ids, jobIds);
    return recorded;
  }

  /** Events stored by this publish, identical duplicates within one batch counted once. */
  private countPublished(events: readonly StoredEvent[]): void {
    if (!this.instruments.enabled || events.length === 0) return;
    const seen = new Set<string>();
    const types: string[] = [];
    for (const event of events) {
      if (seen.has(event.id)) continue;
      seen.add(event.id);
      types.push(event.type);
    }
    this.instruments.published(types);
  }

  private reportEnqueueFailure(error: Error): void {
    if (this.enqueueFailing) return;
    this.enqueueFailing = true;
    this.logger.warn(
      `Events are stored but not enqueued (${error.message}); the outbox relay enqueues them once the queue answers.`,
    );
  }

  private reportEnqueueRecovery(): void {
    if (!this.enqueueFailing) return;
    this.enqueueFailing = false;
    this.logger.log('Publishing enqueues events again');
  }
}

/** An error a batch's append fails with because of one call's events (which the other calls need not share). */
function isOneCallsError(error: unknown): boolean {
  return (
    error instanceof EventValidationError ||
    error instanceof EventConflictError ||
    error instanceof ConcurrentAppendError
  );
}

/** The store's options as given: an absent manager or version is not passed as an explicit `undefined`. */
function withoutUndefined(options: EventWriteOptions): EventWriteOptions | undefined {
  const given: EventWriteOptions = {};
  if (options.manager) given.manager = options.manager;
  if (options.expectedVersion !== undefined) given.expectedVersion = options.expectedVersion;
  return Object.keys(given).length > 0 ? given : undefined;
}

/** Ids in first-seen order: a batch may hold the same event twice (identical duplicates). */
function uniqueIds(events: readonly StoredEvent[]): string[] {
  return [...new Set(events.map((event) => event.id))];
}
