/**
 * The `EventBus` contract: one set of cases run against every implementation (`BullMQEventBus` on
 * Redis and on BullMQ's PostgreSQL backend, the in-memory bus of `./testing`), so a behaviour that
 * differs fails. The cases use the public API only, and wait by polling with a deadline, which the
 * in-memory bus passes at once. Each case works on event types and a tenant of its own, and
 * unsubscribes its handlers, so cases on one bus do not see each other's events.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import {
  EventBusNotReadyError,
  EventConcurrencyError,
  EventConflictError,
  EventValidationError,
  HandlerTimeoutError,
  NonRetryableEventError,
  type EventBus,
  type EventContext,
  type EventStatus,
  type EventStore,
  type NewDomainEvent,
  type RetryPolicy,
  type StoredEvent,
  type Subscription,
} from '@app/event-bus';
import { waitFor } from '../support/wait-for.js';

export interface EventBusSubject {
  /** Initialized, with `defaultRetry` of 3 attempts and short fixed waits. */
  bus: EventBus;
  /** The store the bus writes to. */
  store: EventStore;
  /** Whether handlers run in transactions of the store's database (`context.manager` set). */
  transactional: boolean;
  /** A second bus of the same kind, not initialized (for the lifecycle case); closed by its `close`. */
  createUninitialized(): Promise<{ bus: EventBus; close(): Promise<void> }>;
  close(): Promise<void>;
}

/** A handler's calls, as it saw them. */
interface Call {
  event: StoredEvent;
  context: EventContext;
}

/** Long enough for a real bus on a busy machine; the in-memory bus settles in a few turns. */
const SETTLE_MS = 20_000;
const quickRetry = (maxAttempts: number): RetryPolicy => ({ maxAttempts, backoff: { type: 'fixed', delay: 20 } });

export function eventBusContract(open: () => Promise<EventBusSubject>): void {
  let subject: EventBusSubject;
  let bus: EventBus;
  let store: EventStore;
  let subscriptions: Subscription[] = [];
  let caseNumber = 0;
  /** This case's type prefix and tenant. */
  let p: string;
  let tenantId: string;

  beforeAll(async () => {
    subject = await open();
    ({ bus, store } = subject);
  });
  afterAll(() => subject?.close());
  beforeEach(() => {
    caseNumber += 1;
    p = `c${caseNumber}x${randomUUID().slice(0, 8)}`;
    tenantId = randomUUID();
  });
  afterEach(async () => {
    for (const subscription of subscriptions) await bus.unsubscribe(subscription);
    subscriptions = [];
  });

  const event = (type: string, overrides: Partial<NewDomainEvent> = {}): NewDomainEvent => ({
    id: randomUUID(),
    type: `${p}.${type}`,
    tenantId,
    payload: { n: 1 },
    ...overrides,
  });

  /** Subscribes a handler that records its calls and does what `behaviour` says (throws, waits…). */
  async function handler(
    pattern: string,
    name: string,
    behaviour: (call: Call) => unknown = () => undefined,
    options: { retry?: RetryPolicy; replay?: boolean; timeoutMs?: number; transactional?: boolean } = {},
  ): Promise<Call[]> {
    const calls: Call[] = [];
    const subscription = await bus.subscribe(
      `${p}.${pattern}`,
      async (received: StoredEvent, context: EventContext) => {
        const call = { event: received, context };
        calls.push(call);
        await behaviour(call);
      },
      { name: `${p}-${name}`, ...options },
    );
    subscriptions.push(subscription);
    return calls;
  }

  const statusOf = async (id: string): Promise<EventStatus | undefined> => (await store.findById(id))?.status;
  const waitForStatus = (id: string, status: EventStatus): Promise<unknown> =>
    waitFor(async () => (await statusOf(id)) === status, { timeoutMs: SETTLE_MS, message: `event ${id} ${status}` });
  const attempts = (calls: Call[]): number[] => calls.map((call) => call.context.attempt);

  describe('publish and routing', () => {
    it('delivers to the handlers whose pattern matches, once each, and marks the event processed', async () => {
      const one = await handler('order.*', 'one-segment');
      const any = await handler('order.**', 'any-segments');
      const other = await handler('invoice.*', 'other');
      const placed = await bus.publish(event('order.placed'));
      const added = await bus.publish(event('order.line.added'));
      await waitForStatus(placed.id, 'processed');
      await waitForStatus(added.id, 'processed');
      expect(one.map((call) => call.event.id)).toEqual([placed.id]);
      expect(any.map((call) => call.event.id).sort()).toEqual([placed.id, added.id].sort());
      expect(other).toEqual([]);
      expect(one[0].context).toMatchObject({ attempt: 1, replay: false, handler: `${p}-one-segment` });
      expect(one[0].event).toMatchObject({ id: placed.id, type: `${p}.order.placed`, status: 'processing' });
      expect(one[0].event.metadata?.jobId).toEqual(expect.any(String));
    });

    it('returns the stored event, pending, with its sequence number and job id', async () => {
      const published = await bus.publish(event('thing.done', { metadata: { workflowId: `wf-${p}` } }));
      expect(published).toMatchObject({
        type: `${p}.thing.done`,
        tenantId,
        payload: { n: 1 },
        status: 'pending',
        sequenceNumber: expect.any(Number),
        metadata: { workflowId: `wf-${p}`, jobId: expect.any(String) },
      });
      await waitForStatus(published.id, 'processed');
      expect(await bus.getEventsByWorkflowId(`wf-${p}`)).toMatchObject([{ id: published.id, status: 'processed' }]);
    });

    it('marks an event that no handler matches processed', async () => {
      const published = await bus.publish(event('nobody.listens'));
      await waitForStatus(published.id, 'processed');
    });

    it('publishAll stores and delivers a batch in order', async () => {
      const calls = await handler('batch.*', 'batch');
      const stored = await bus.publishAll([event('batch.a'), event('batch.b'), event('batch.c')]);
      expect(stored.map((e) => e.type)).toEqual([`${p}.batch.a`, `${p}.batch.b`, `${p}.batch.c`]);
      expect(stored[0].sequenceNumber).toBeLessThan(stored[1].sequenceNumber);
      for (const { id } of stored) await waitForStatus(id, 'processed');
      expect(calls.map((call) => call.event.id).sort()).toEqual(stored.map((e) => e.id).sort());
      await expect(bus.publishAll([])).resolves.toEqual([]);
    });

    it('stops delivering to a handler once it is unsubscribed', async () => {
      const calls: Call[] = [];
      const subscription = await bus.subscribe(
        `${p}.gone`,
        (received, context) => void calls.push({ event: received, context }),
        {
          name: `${p}-gone`,
        },
      );
      await bus.unsubscribe(subscription);
      const published = await bus.publish(event('gone'));
      await waitForStatus(published.id, 'processed');
      expect(calls).toEqual([]);
    });
    it('delivers what a handler publishes, as any other event', async () => {
      await handler('chain.start', 'chain-starter', async ({ event: received }) => {
        await bus.publish(event('chain.next', { id: undefined, payload: { after: received.id } }));
      });
      const next = await handler('chain.next', 'chain-follower');
      const start = await bus.publish(event('chain.start'));
      await waitFor(() => next.length === 1, { timeoutMs: SETTLE_MS, message: 'the published event to be delivered' });
      await waitForStatus(next[0].event.id, 'processed');
      await waitForStatus(start.id, 'processed');
      expect(next[0].event.payload).toEqual({ after: start.id });
    });
  });

  describe('validation and idempotency', () => {
    it('rejects an invalid event before anything is stored or delivered', async () => {
      const calls = await handler('**', 'sees-everything');
      const error = await bus.publish(event('bad type')).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(EventValidationError);
      expect(error).toMatchObject({ field: 'type', index: undefined });
      const batch = await bus
        .publishAll([event('fine'), event('fine', { payload: { at: new Date() } })])
        .catch((caught: unknown) => caught);
      expect(batch).toMatchObject({ name: 'EventValidationError', field: 'payload.at', index: 1 });
      expect(await store.getEventsByTenant(tenantId)).toEqual([]);
      // A later valid event of this case is delivered: nothing of the rejected ones was.
      const marker = await bus.publish(event('marker'));
      await waitForStatus(marker.id, 'processed');
      expect(calls.map((call) => call.event.id)).toEqual([marker.id]);
    });

    it('stores and delivers the same event once; a different one under its id is a conflict', async () => {
      const calls = await handler('once', 'once');
      const input = event('once');
      const first = await bus.publish(input);
      await waitForStatus(first.id, 'processed');
      const again = await bus.publish({ ...input });
      expect(again.id).toBe(first.id);
      expect(again.sequenceNumber).toBe(first.sequenceNumber);
      const conflict = await bus.publish({ ...input, payload: { n: 2 } }).catch((caught: unknown) => caught);
      expect(conflict).toBeInstanceOf(EventConflictError);
      expect(conflict).toMatchObject({ eventId: first.id, fields: ['payload'] });
      // Delivered in turn after the repeat: had the repeat been enqueued, its delivery would be due as well.
      const marker = await bus.publish(event('once'));
      await waitForStatus(marker.id, 'processed');
      expect(calls.map((call) => call.event.id).filter((id) => id === first.id)).toHaveLength(1);
      expect(await store.getEventsByTenant(tenantId)).toHaveLength(2);
    });
  });

  describe('versions and optimistic concurrency', () => {
    const inWorkflow = (type: string, workflowId = `wf-${p}`): NewDomainEvent =>
      event(type, { metadata: { workflowId } });

    it('numbers a workflow gaplessly, concurrent publishes included; getEventsByWorkflowId is in version order', async () => {
      const calls = await handler('step.*', 'steps');
      const first = await bus.publish(inWorkflow('step.one'));
      expect(first.version).toBe(1);
      // Concurrent publishes without expectedVersion all succeed, each with its own next version.
      const concurrent = await Promise.all([
        bus.publish(inWorkflow('step.two')),
        bus.publishAll([inWorkflow('step.three'), inWorkflow('step.four')]),
        bus.publish(inWorkflow('step.five')),
        bus.publish(event('step.none')),
      ]);
      expect(concurrent[3].version).toBeNull();
      const stream = await bus.getEventsByWorkflowId(`wf-${p}`, { tenantId });
      expect(stream.map((stored) => stored.version)).toEqual([1, 2, 3, 4, 5]);
      expect(await bus.getWorkflowVersion(`wf-${p}`)).toBe(5);
      expect(await bus.getWorkflowVersion(`wf-${p}`, { tenantId })).toBe(5);
      expect(await bus.getWorkflowVersion(`wf-none-${p}`)).toBe(0);
      // Handlers see the version too.
      await waitFor(() => calls.length === 6, { timeoutMs: SETTLE_MS, message: 'every step delivered' });
      expect(calls.find((call) => call.event.id === first.id)?.event.version).toBe(1);
    });

    it('expectedVersion: appends at the version the caller saw, else EventConcurrencyError, nothing stored or delivered', async () => {
      const calls = await handler('ov.*', 'ov');
      const first = await bus.publish(inWorkflow('ov.started'), { expectedVersion: 0 });
      expect(first.version).toBe(1);
      const batch = await bus.publishAll([inWorkflow('ov.a'), inWorkflow('ov.b')], { expectedVersion: 1 });
      expect(batch.map((stored) => stored.version)).toEqual([2, 3]);
      for (const expectedVersion of [0, 2, 4]) {
        const error = await bus.publish(inWorkflow('ov.late'), { expectedVersion }).catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(EventConcurrencyError);
        expect(error).toMatchObject({ workflowId: `wf-${p}`, tenantId, expectedVersion, actualVersion: 3 });
      }
      await expect(
        bus.publishAll([inWorkflow('ov.late'), inWorkflow('ov.later')], { expectedVersion: 2 }),
      ).rejects.toBeInstanceOf(EventConcurrencyError);
      const marker = await bus.publish(inWorkflow('ov.marker'), { expectedVersion: 3 });
      await waitForStatus(marker.id, 'processed');
      await waitFor(() => calls.length === 4, { timeoutMs: SETTLE_MS, message: 'the stored events delivered' });
      expect(calls.map((call) => call.event.type).sort()).toEqual(
        [`${p}.ov.started`, `${p}.ov.a`, `${p}.ov.b`, `${p}.ov.marker`].sort(),
      );
      expect(await store.getEventsByTenant(tenantId)).toHaveLength(4);
    });

    it('of publishes racing from one version exactly one wins; the others get the actual version', async () => {
      const racers = Array.from({ length: 5 }, (_, index) =>
        bus.publish(inWorkflow(`race.r${index}`), { expectedVersion: 0 }).then(
          (stored) => ({ stored }),
          (error: unknown) => ({ error }),
        ),
      );
      const outcomes = await Promise.all(racers);
      const winners = outcomes.filter((outcome) => 'stored' in outcome);
      expect(winners).toHaveLength(1);
      for (const outcome of outcomes) {
        if ('error' in outcome) {
          expect(outcome.error).toBeInstanceOf(EventConcurrencyError);
          expect(outcome.error).toMatchObject({ expectedVersion: 0, actualVersion: 1 });
        }
      }
      expect((await bus.getEventsByWorkflowId(`wf-${p}`)).map((stored) => stored.version)).toEqual([1]);
    });

    it('an idempotent re-publish with an old expectedVersion resolves to the stored event', async () => {
      const input = inWorkflow('idem.once');
      const first = await bus.publish(input, { expectedVersion: 0 });
      await bus.publish(inWorkflow('idem.next'), { expectedVersion: 1 });
      const again = await bus.publish({ ...input }, { expectedVersion: 0 });
      expect(again).toMatchObject({ id: first.id, version: 1, sequenceNumber: first.sequenceNumber });
    });

    it('validates expectedVersion and the workflow of its events before anything is stored', async () => {
      for (const expectedVersion of [-1, 0.5, '1', null]) {
        const error = await bus
          .publish(inWorkflow('bad.v'), { expectedVersion } as never)
          .catch((caught: unknown) => caught);
        expect(error).toMatchObject({ name: 'EventValidationError', field: 'expectedVersion' });
      }
      await expect(bus.publishAll([], { expectedVersion: -1 })).rejects.toBeInstanceOf(EventValidationError);
      const noWorkflow = await bus
        .publish(event('bad.none'), { expectedVersion: 0 })
        .catch((caught: unknown) => caught);
      expect(noWorkflow).toMatchObject({
        name: 'EventValidationError',
        field: 'metadata.workflowId',
        index: undefined,
      });
      const mixed = await bus
        .publishAll([inWorkflow('bad.a'), inWorkflow('bad.b', `wf-other-${p}`)], { expectedVersion: 0 })
        .catch((caught: unknown) => caught);
      expect(mixed).toMatchObject({ name: 'EventValidationError', field: 'metadata.workflowId', index: 1 });
      expect(await store.getEventsByTenant(tenantId)).toEqual([]);
      await expect(bus.getWorkflowVersion('')).rejects.toBeInstanceOf(EventValidationError);
    });
  });

  describe('retries', () => {
    it('retries only the failing handler under its policy; a sibling that succeeded is not run again', async () => {
      const flaky = await handler(
        'flaky',
        'flaky',
        ({ context }) => {
          if (context.attempt < 3) throw new Error(`flaky ${context.attempt}`);
        },
        { retry: quickRetry(3) },
      );
      const sibling = await handler('flaky', 'sibling');
      const published = await bus.publish(event('flaky'));
      await waitForStatus(published.id, 'processed');
      expect(attempts(flaky)).toEqual([1, 2, 3]);
      expect(attempts(sibling)).toEqual([1]);
      expect(flaky.every((call) => call.context.handler === `${p}-flaky`)).toBe(true);
      expect(await bus.getFailedDeliveries({ eventId: published.id })).toEqual([]);
    });

    it('an exhausted policy leaves a failure record and the event failed; the sibling ran once', async () => {
      const broken = await handler(
        'broken',
        'broken',
        () => {
          throw new Error('always broken');
        },
        { retry: quickRetry(2) },
      );
      const sibling = await handler('broken', 'fine');
      const published = await bus.publish(event('broken'));
      await waitForStatus(published.id, 'failed');
      expect(attempts(broken)).toEqual([1, 2]);
      expect(attempts(sibling)).toEqual([1]);
      const failures = await bus.getFailedDeliveries({ eventId: published.id });
      expect(failures).toEqual([
        {
          eventId: published.id,
          handler: `${p}-broken`,
          attempts: 2,
          lastError: 'Error: always broken',
          failedAt: expect.any(String),
        },
      ]);
      expect(new Date(failures[0].failedAt).toISOString()).toBe(failures[0].failedAt);
      expect(await bus.getFailedDeliveries({ tenantId })).toEqual(failures);
      expect(await bus.getFailedDeliveries({ tenantId: randomUUID() })).toEqual([]);
      expect(await bus.getFailedDeliveries({ handler: `${p}-fine` })).toEqual([]);
    });

    it('uses the default policy for a handler without one', async () => {
      const calls = await handler('default', 'default', () => {
        throw new Error('no policy of its own');
      });
      const published = await bus.publish(event('default'));
      await waitForStatus(published.id, 'failed');
      expect(attempts(calls)).toEqual([1, 2, 3]);
    });

    it('fails an attempt past its timeoutMs with HandlerTimeoutError, aborting its signal, and retries it', async () => {
      const calls = await handler(
        'slow',
        'slow',
        ({ context }) =>
          context.attempt === 1 &&
          new Promise((resolve) => context.signal.addEventListener('abort', resolve, { once: true })),
        { retry: quickRetry(2), timeoutMs: 50 },
      );
      const published = await bus.publish(event('slow'));
      await waitForStatus(published.id, 'processed');
      expect(attempts(calls)).toEqual([1, 2]);
      expect(calls[0].context.signal.reason).toBeInstanceOf(HandlerTimeoutError);
      expect(calls[1].context.signal.aborted).toBe(false);
    });

    it('NonRetryableEventError fails the delivery at once', async () => {
      const calls = await handler(
        'fatal',
        'fatal',
        () => {
          throw new NonRetryableEventError('cannot ever work');
        },
        { retry: quickRetry(5) },
      );
      const published = await bus.publish(event('fatal'));
      await waitForStatus(published.id, 'failed');
      expect(attempts(calls)).toEqual([1]);
      expect(await bus.getFailedDeliveries({ eventId: published.id })).toMatchObject([
        { attempts: 1, lastError: 'NonRetryableEventError: cannot ever work' },
      ]);
    });

    it('retryFailed re-drives a failed delivery with a fresh maxAttempts, running only that handler', async () => {
      let healed = false;
      const flaky = await handler(
        'redrive',
        'redrive',
        ({ context }) => {
          if (!healed || context.attempt < 2) throw new Error('not yet');
        },
        { retry: quickRetry(2) },
      );
      const sibling = await handler('redrive', 'redrive-sibling');
      const published = await bus.publish(event('redrive'));
      await waitForStatus(published.id, 'failed');
      expect(attempts(flaky)).toEqual([1, 2]);

      healed = true;
      await expect(bus.retryFailed({ eventId: published.id })).resolves.toBe(1);
      await waitForStatus(published.id, 'processed');
      // Fails its first attempt of the new run and succeeds on the second: two attempts, fresh.
      expect(attempts(flaky)).toEqual([1, 2, 1, 2]);
      expect(attempts(sibling)).toEqual([1]);
      expect(await bus.getFailedDeliveries({ eventId: published.id })).toEqual([]);
      await expect(bus.retryFailed({ eventId: published.id })).resolves.toBe(0);
    });

    it('retryFailed counts what it re-drove, by filter; a delivery failing again is listed again, oldest failure first', async () => {
      const broken = await handler(
        'again',
        'again',
        () => {
          throw new Error('still broken');
        },
        { retry: quickRetry(2) },
      );
      const first = await bus.publish(event('again'));
      await waitForStatus(first.id, 'failed');
      const second = await bus.publish(event('again'));
      await waitForStatus(second.id, 'failed');

      await expect(bus.retryFailed({ tenantId: randomUUID() })).resolves.toBe(0);
      await expect(bus.retryFailed({ handler: `${p}-nobody` })).resolves.toBe(0);
      await expect(bus.retryFailed({ eventId: first.id })).resolves.toBe(1);
      await waitFor(async () => attempts(broken).length === 6, {
        timeoutMs: SETTLE_MS,
        message: 'the re-drive to run',
      });
      await waitForStatus(first.id, 'failed');
      // The re-driven delivery failed again after the other one: it is listed last, with its new run's attempts.
      expect(await bus.getFailedDeliveries({ tenantId })).toEqual([
        expect.objectContaining({ eventId: second.id, handler: `${p}-again`, attempts: 2 }),
        expect.objectContaining({
          eventId: first.id,
          handler: `${p}-again`,
          attempts: 2,
          lastError: 'Error: still broken',
        }),
      ]);

      await expect(bus.retryFailed({ handler: `${p}-again` })).resolves.toBe(2);
      await waitFor(async () => attempts(broken).length === 10, {
        timeoutMs: SETTLE_MS,
        message: 'both re-drives to run',
      });
      await waitForStatus(first.id, 'failed');
      await waitForStatus(second.id, 'failed');
      expect(await bus.getFailedDeliveries({ tenantId })).toHaveLength(2);
    });

    it('checks the filters of getFailedDeliveries and retryFailed', async () => {
      await expect(bus.getFailedDeliveries({ eventId: 'nope' })).rejects.toMatchObject({
        name: 'EventValidationError',
        field: 'eventId',
      });
      await expect(bus.retryFailed({ tenantId: '' })).rejects.toMatchObject({
        name: 'EventValidationError',
        field: 'tenantId',
      });
      await expect(bus.retryFailed({ handler: '' })).rejects.toMatchObject({ field: 'handler' });
      await expect(bus.getFailedDeliveries({ eventType: 'a..b' })).rejects.toMatchObject({ field: 'eventType' });
      await expect(bus.getFailedDeliveries({ workflowId: '' })).rejects.toMatchObject({ field: 'workflowId' });
      await expect(bus.getFailedDeliveries({ limit: 0 })).rejects.toMatchObject({ field: 'limit' });
      await expect(
        bus.getFailedDeliveries({ after: { failedAt: 'yesterday', eventId: randomUUID(), handler: 'h' } }),
      ).rejects.toMatchObject({ field: 'after.failedAt' });
      // Paging lists; a re-drive takes every match, so it refuses a page's bounds.
      await expect(bus.retryFailed({ limit: 10 } as never)).rejects.toMatchObject({ field: 'limit' });
    });
  });

  describe('transactional handlers', () => {
    it("runs one once per event, with the transaction's manager where the store has a database", async () => {
      const projector = await handler('tx.*', 'tx-projector', () => undefined, { transactional: true });
      const plain = await handler('tx.*', 'tx-plain');
      const published = await bus.publishAll([event('tx.a'), event('tx.b'), event('tx.c')]);
      for (const { id } of published) await waitForStatus(id, 'processed');
      expect(projector.map((call) => call.event.id).sort()).toEqual(published.map((e) => e.id).sort());
      for (const call of projector) {
        if (subject.transactional) expect(call.context.manager).toBeDefined();
        else expect(call.context.manager).toBeUndefined();
      }
      expect(plain.every((call) => call.context.manager === undefined)).toBe(true);
    });

    it('retries one that throws under its policy; retryFailed runs an exhausted one again', async () => {
      let healed = false;
      const flaky = await handler(
        'tx.flaky',
        'tx-flaky',
        () => {
          if (!healed) throw new Error('not yet');
        },
        { transactional: true, retry: quickRetry(2) },
      );
      const published = await bus.publish(event('tx.flaky'));
      await waitForStatus(published.id, 'failed');
      expect(attempts(flaky)).toEqual([1, 2]);
      healed = true;
      await expect(bus.retryFailed({ eventId: published.id })).resolves.toBe(1);
      await waitForStatus(published.id, 'processed');
      // The failed attempts left no inbox mark: the re-drive ran the handler.
      expect(attempts(flaky)).toEqual([1, 2, 1]);
    });

    it('runs one again in a replay (a deliberate re-run), told it is a replay', async () => {
      const projector = await handler('tx.replayed', 'tx-replayed', () => undefined, { transactional: true });
      const published = await bus.publish(event('tx.replayed', { timestamp: '2031-01-01T00:00:00.000Z' }));
      await waitForStatus(published.id, 'processed');
      const result = await bus.replayEvents(new Date('2031-01-01T00:00:00.000Z'), { tenantId });
      expect(result).toEqual({ events: 1, handlerCalls: 1, failed: 0 });
      expect(projector.map((call) => call.context.replay)).toEqual([false, true]);
      expect(projector[1].context.manager === undefined).toBe(!subject.transactional);
    });
  });

  describe('statuses', () => {
    it('records the job id publish returned on the stored event; retries run under a job of their own', async () => {
      const flaky = await handler(
        'job',
        'job',
        ({ context }) => {
          if (context.attempt < 3) throw new Error('not yet');
        },
        { retry: quickRetry(3) },
      );
      const published = await bus.publish(event('job'));
      const jobId = published.metadata?.jobId;
      await waitForStatus(published.id, 'processed');
      expect((await store.findById(published.id))?.metadata?.jobId).toBe(jobId);
      const [firstTry, ...retries] = flaky.map((call) => call.context.jobId);
      expect(firstTry).toBe(jobId);
      expect(retries).toEqual([expect.any(String), retries[0]]);
      expect(retries[0]).not.toBe(jobId);
    });

    it('a failed delivery leaves its event failed in the store; the succeeding sibling does not change that', async () => {
      await handler('half', 'half-broken', () => {
        throw new NonRetryableEventError('no');
      });
      await handler('half', 'half-fine');
      const published = await bus.publish(event('half'));
      await waitForStatus(published.id, 'failed');
      expect(await store.getEventsByTenant(tenantId)).toMatchObject([{ id: published.id, status: 'failed' }]);
      expect(await bus.getFailedDeliveries({ tenantId })).toMatchObject([{ handler: `${p}-half-broken`, attempts: 1 }]);
    });

    it('is processing while a handler runs, and processed once it is done', async () => {
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      const calls = await handler('slow', 'slow', () => held);
      const published = await bus.publish(event('slow'));
      try {
        await waitFor(() => calls.length === 1, { timeoutMs: SETTLE_MS, message: 'the slow handler to start' });
        await waitForStatus(published.id, 'processing');
      } finally {
        release();
      }
      await waitForStatus(published.id, 'processed');
    });
  });

  describe('replay', () => {
    it('re-delivers stored events in sequence order to replayable handlers, changing no status', async () => {
      const projector = await handler('step.*', 'projector');
      const mailer = await handler('step.*', 'mailer', () => undefined, { replay: false });
      // Timestamps in the opposite order of publication: replay follows the store's order, not the clock.
      const published: StoredEvent[] = [];
      for (const [index, minute] of ['03', '02', '01'].entries()) {
        published.push(await bus.publish(event(`step.s${index}`, { timestamp: `2030-01-01T00:${minute}:00.000Z` })));
      }
      for (const { id } of published) await waitForStatus(id, 'processed');
      projector.length = 0;
      mailer.length = 0;

      const result = await bus.replayEvents(new Date('2030-01-01T00:00:00.000Z'), { tenantId });
      expect(result).toEqual({ events: 3, handlerCalls: 3, failed: 0 });
      expect(projector.map((call) => call.event.id)).toEqual(published.map((e) => e.id));
      expect(projector.every((call) => call.context.replay && call.context.attempt === 1)).toBe(true);
      expect(mailer).toEqual([]);
      for (const { id } of published) expect(await statusOf(id)).toBe('processed');

      const window = await bus.replayEvents(new Date('2030-01-01T00:02:00.000Z'), {
        tenantId,
        to: new Date('2030-01-01T00:03:00.000Z'),
      });
      expect(window).toEqual({ events: 1, handlerCalls: 1, failed: 0 });
      expect(projector.at(-1)?.event.id).toBe(published[1].id);
    });

    it('replays failed events too, leaving their status and failure records, to the handlers and types asked for', async () => {
      const projector = await handler('audit.*', 'audit-projector');
      await handler('audit.rejected', 'audit-broken', () => {
        throw new NonRetryableEventError('rejected');
      });
      const rejected = await bus.publish(event('audit.rejected', { timestamp: '2032-01-01T00:00:00.000Z' }));
      const accepted = await bus.publish(event('audit.accepted', { timestamp: '2032-01-01T00:01:00.000Z' }));
      await waitForStatus(rejected.id, 'failed');
      await waitForStatus(accepted.id, 'processed');
      const failures = await bus.getFailedDeliveries({ tenantId });
      projector.length = 0;

      const all = await bus.replayEvents(new Date('2032-01-01T00:00:00.000Z'), {
        tenantId,
        handlers: [`${p}-audit-projector`],
      });
      expect(all).toEqual({ events: 2, handlerCalls: 2, failed: 0 });
      const onlyRejected = await bus.replayEvents(new Date('2032-01-01T00:00:00.000Z'), {
        tenantId,
        types: [`${p}.audit.rejected`],
        handlers: [`${p}-audit-projector`],
      });
      expect(onlyRejected).toEqual({ events: 1, handlerCalls: 1, failed: 0 });
      expect(projector.map((call) => call.event.id)).toEqual([rejected.id, accepted.id, rejected.id]);
      expect(await statusOf(rejected.id)).toBe('failed');
      expect(await bus.getFailedDeliveries({ tenantId })).toEqual(failures);
    });

    it('counts handler calls that fail during a replay, without retrying them', async () => {
      const calls = await handler('projection', 'projection', ({ context }) => {
        if (context.replay) throw new Error('projection broke');
      });
      const published = await bus.publish(event('projection', { timestamp: '2031-01-01T00:00:00.000Z' }));
      await waitForStatus(published.id, 'processed');
      const result = await bus.replayEvents(new Date('2031-01-01T00:00:00.000Z'), { tenantId });
      expect(result).toEqual({ events: 1, handlerCalls: 1, failed: 1 });
      expect(calls).toHaveLength(2);
      expect(await statusOf(published.id)).toBe('processed');
    });
  });

  describe('pruneEvents', () => {
    it("deletes old finished events through the store, keeping failed ones unless asked and a workflow's newest", async () => {
      // Timestamps before every other case's, so the prune touches this case's events only.
      const at = (day: number): string => `2001-01-0${day}T00:00:00.000Z`;
      const before = new Date('2001-02-01T00:00:00.000Z');
      await handler('kept.**', 'fine');
      await handler(
        'kept.broken',
        'broken',
        () => {
          throw new Error('always broken');
        },
        { retry: quickRetry(1) },
      );
      const plain = await bus.publish(event('kept.plain', { timestamp: at(1) }));
      const older = await bus.publish(event('kept.step', { timestamp: at(2), metadata: { workflowId: `${p}-wf` } }));
      const newest = await bus.publish(event('kept.step', { timestamp: at(3), metadata: { workflowId: `${p}-wf` } }));
      const failed = await bus.publish(event('kept.broken', { timestamp: at(4) }));
      for (const { id } of [plain, older, newest]) await waitForStatus(id, 'processed');
      await waitForStatus(failed.id, 'failed');

      await expect(bus.pruneEvents({ before, status: 'pending' as 'processed' })).rejects.toBeInstanceOf(
        EventValidationError,
      );
      expect(await bus.pruneEvents({ before })).toBe(2);
      expect(await bus.getEventsByWorkflowId(`${p}-wf`)).toEqual([expect.objectContaining({ id: newest.id })]);
      expect(await store.findById(plain.id)).toBeNull();
      expect(await bus.pruneEvents({ before, status: ['processed', 'failed'] })).toBe(1);
      expect(await bus.getFailedDeliveries({ eventId: failed.id })).toEqual([]);
      expect(await store.findById(newest.id)).not.toBeNull();
    });
  });

  describe('lifecycle', () => {
    it('feeds an ordered handler each workflow one event at a time, in version order, keys in parallel', async () => {
      const seen = new Map<string, number[]>();
      const running = new Set<string>();
      let overlaps = 0;
      const subscription = await bus.subscribe(
        `${p}.step`,
        async (stored: StoredEvent) => {
          const workflow = String(stored.metadata?.workflowId);
          if (running.has(workflow)) overlaps += 1;
          running.add(workflow);
          await new Promise((resolve) => setImmediate(resolve));
          seen.set(workflow, [...(seen.get(workflow) ?? []), stored.version ?? 0]);
          running.delete(workflow);
        },
        { name: `${p}-ordered`, ordered: true, startFrom: 'beginning' },
      );
      subscriptions.push(subscription);
      for (const workflow of ['a', 'b', 'c']) {
        await bus.publishAll([1, 2, 3].map(() => event('step', { metadata: { workflowId: `${p}-${workflow}` } })));
      }
      await waitFor(() => [...seen.values()].flat().length === 9, { timeoutMs: SETTLE_MS, message: 'ordered calls' });
      for (const workflow of ['a', 'b', 'c']) expect(seen.get(`${p}-${workflow}`)).toEqual([1, 2, 3]);
      expect(overlaps).toBe(0);
      const standing = (await bus.getOrderedHandlers()).find((entry) => entry.handler === `${p}-ordered`);
      expect(standing).toMatchObject({ parked: 0 });
      await expect(bus.resetOrderedHandler(`${p}-not-ordered`)).rejects.toThrow('no ordered handler is named');
    });

    it('refuses publishing before initialize() and after close(); both are safe to call twice', async () => {
      const idle = await subject.createUninitialized();
      try {
        expect(idle.bus.readiness().ready).toBe(false);
        await expect(idle.bus.publish(event('early'))).rejects.toBeInstanceOf(EventBusNotReadyError);
        await idle.bus.initialize();
        await idle.bus.initialize();
        expect(idle.bus.readiness()).toEqual({ ready: true });
        await idle.bus.close();
        await idle.bus.close();
        expect(idle.bus.readiness()).toMatchObject({ ready: false, reason: expect.any(String) });
        await expect(idle.bus.publish(event('late'))).rejects.toBeInstanceOf(EventBusNotReadyError);
        await expect(idle.bus.initialize()).rejects.toBeInstanceOf(EventBusNotReadyError);
      } finally {
        await idle.close();
      }
    });
  });
}
