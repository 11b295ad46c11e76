import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { OnEvent } from '../nest/on-event.decorator.js';
import { EventBusNotReadyError, NonRetryableEventError } from '../shared/errors.js';
import { EventBus } from '../core/event-bus.js';
import type { StoredEvent } from '../events/domain-event.js';
import { EventStore } from '../store/event-store.js';
import { SubscriptionManager } from '../subscriptions/subscription-manager.js';
import type { EventContext } from '../subscriptions/subscription.js';
import { EventBusTestHarness } from './event-bus-test-harness.js';
import { EventBusTestingModule, type EventBusTestingOptions } from './event-bus-testing.module.js';
import { InMemoryEventBus } from './in-memory-event-bus.js';
import { InMemoryEventStore } from '../store/in-memory/in-memory-event-store.js';

const TENANT = '33333333-3333-4333-8333-333333333333';

/** A user's provider: a projection, a notifier that fails while told to, and a handler that publishes the next event. */
@Injectable()
class OrderHandlers {
  readonly totals = new Map<string, number>();
  readonly mails: Array<{ orderId: string; attempt: number }> = [];
  failMails = 0;
  /** Called on every mail attempt, before it fails or succeeds. */
  onMail?: () => void;

  constructor(private readonly bus: EventBus) {}

  @OnEvent('order.placed')
  project(event: StoredEvent<{ orderId: string; total: number }>): void {
    this.totals.set(event.payload.orderId, event.payload.total);
  }

  @OnEvent('order.*', { name: 'mailer', retry: { maxAttempts: 3, backoff: { type: 'fixed', delay: 60_000 } } })
  async mail(event: StoredEvent<{ orderId: string }>, context: EventContext): Promise<void> {
    this.mails.push({ orderId: event.payload.orderId, attempt: context.attempt });
    this.onMail?.();
    if (this.failMails > 0) {
      this.failMails -= 1;
      throw new Error('mail server down');
    }
  }

  @OnEvent('order.rejected')
  reject(): void {
    throw new NonRetryableEventError('rejected orders cannot be mailed');
  }

  @OnEvent('order.paid')
  async ship(event: StoredEvent<{ orderId: string }>): Promise<void> {
    await this.bus.publish({ type: 'shipment.requested', tenantId: event.tenantId, payload: event.payload });
  }
}

/** An ordered projection: a workflow's steps one at a time, in order; step 2 fails on its first try. */
@Injectable()
class StepProjection {
  readonly seen: Array<{ workflow: string; version: number | null; attempt: number }> = [];

  @OnEvent('step.*', {
    ordered: true,
    startFrom: 'beginning',
    retry: { maxAttempts: 3, backoff: { type: 'fixed', delay: 60_000 } },
  })
  apply(event: StoredEvent<{ n: number }>, context: EventContext): void {
    this.seen.push({ workflow: String(event.metadata?.workflowId), version: event.version, attempt: context.attempt });
    if (event.payload.n === 2 && context.attempt === 1) throw new Error('not yet');
  }
}

describe('EventBusTestingModule', () => {
  let moduleRef: TestingModule | undefined;

  async function start(options: EventBusTestingOptions = {}): Promise<TestingModule> {
    moduleRef = await Test.createTestingModule({
      imports: [EventBusTestingModule.forRoot({ logger: false, ...options })],
      providers: [OrderHandlers],
    }).compile();
    await moduleRef.init();
    return moduleRef;
  }

  afterEach(async () => {
    await moduleRef?.close();
    moduleRef = undefined;
  });

  const placed = (orderId: string, total = 10) => ({
    type: 'order.placed',
    tenantId: TENANT,
    payload: { orderId, total },
  });

  it('provides EventBus and EventStore as the in-memory implementations, and finds @OnEvent handlers', async () => {
    const app = await start();
    expect(app.get(EventBus)).toBe(app.get(InMemoryEventBus));
    expect(app.get(EventStore)).toBe(app.get(InMemoryEventStore));
    const names = app
      .get(SubscriptionManager)
      .all()
      .map((handler) => handler.name);
    expect(names).toEqual(['OrderHandlers.project', 'mailer', 'OrderHandlers.reject', 'OrderHandlers.ship']);
    expect(app.get(EventBus).readiness()).toEqual({ ready: true });
  });

  it('delivers a published event to the matching handlers; the store says processed', async () => {
    const app = await start();
    const published = await app.get(EventBus).publish(placed('o-1', 42));
    await app.get(EventBusTestHarness).waitForIdle();
    const handlers = app.get(OrderHandlers);
    expect(handlers.totals.get('o-1')).toBe(42);
    expect(handlers.mails).toEqual([{ orderId: 'o-1', attempt: 1 }]);
    expect(await app.get(EventStore).findById(published.id)).toMatchObject({ status: 'processed' });
  });

  it('lets a test spy on a handler method, as the README shows', async () => {
    const app = await start();
    const mail = jest.spyOn(app.get(OrderHandlers), 'mail').mockRejectedValueOnce(new Error('mail server down'));
    await app.get(EventBus).publish(placed('o-9'));
    await app.get(EventBusTestHarness).waitForIdle();
    expect(mail.mock.calls.map(([, context]) => context.attempt)).toEqual([1, 2]);
    expect(app.get(OrderHandlers).mails).toEqual([{ orderId: 'o-9', attempt: 2 }]);
  });

  it('validates as the real bus does: nothing of an invalid event is stored or delivered', async () => {
    const app = await start();
    await expect(app.get(EventBus).publish({ ...placed('o-2'), tenantId: 'nope' })).rejects.toMatchObject({
      name: 'EventValidationError',
      field: 'tenantId',
    });
    await app.get(EventBusTestHarness).waitForIdle();
    expect(app.get(EventBusTestHarness).published()).toEqual([]);
    expect(app.get(OrderHandlers).mails).toEqual([]);
  });

  it('retries a failing handler at once by default, leaving its siblings alone', async () => {
    const app = await start();
    const handlers = app.get(OrderHandlers);
    handlers.failMails = 2;
    await app.get(EventBus).publish(placed('o-3'));
    await app.get(EventBusTestHarness).waitForIdle();
    expect(handlers.mails.map((mail) => mail.attempt)).toEqual([1, 2, 3]);
    expect(app.get(EventBusTestHarness).published('order.placed')).toMatchObject([{ status: 'processed' }]);
  });

  it('waits the policy for real with realDelays: the retry is still pending, the event processing', async () => {
    const app = await start({ realDelays: true });
    const harness = app.get(EventBusTestHarness);
    const handlers = app.get(OrderHandlers);
    handlers.failMails = 1;
    const firstMail = new Promise<void>((resolve) => (handlers.onMail = resolve));
    const published = await app.get(EventBus).publish(placed('o-4'));
    await firstMail;
    // The retry waits its 60 s: the bus is not idle, and says what it is still delivering.
    await expect(harness.waitForIdle({ timeoutMs: 100 })).rejects.toThrow(`event ${published.id} (order.placed)`);
    expect(harness.published()[0].status).toBe('processing');
    expect(handlers.mails).toEqual([{ orderId: 'o-4', attempt: 1 }]);
    // Closing the module ends the wait; the delivery stays unfinished, as a delayed job would.
  });

  it('lists failed deliveries with their error', async () => {
    const app = await start({ defaultRetry: { maxAttempts: 1, backoff: { type: 'fixed', delay: 1 } } });
    const handlers = app.get(OrderHandlers);
    handlers.failMails = 3;
    const published = await app.get(EventBus).publish(placed('o-5'));
    const harness = app.get(EventBusTestHarness);
    await harness.waitForIdle();
    const failures = harness.failures();
    expect(failures).toEqual([
      {
        eventId: published.id,
        handler: 'mailer',
        attempts: 3,
        lastError: 'Error: mail server down',
        failedAt: expect.any(String),
        error: expect.any(Error),
      },
    ]);
    expect(await harness.waitFor((event) => event.status === 'failed')).toMatchObject({ id: published.id });
    await expect(app.get(EventBus).getFailedDeliveries()).resolves.toEqual([
      expect.objectContaining({ eventId: published.id, handler: 'mailer', attempts: 3 }),
    ]);
  });

  it('fails a NonRetryableEventError at once', async () => {
    const app = await start();
    await app.get(EventBus).publish({ type: 'order.rejected', tenantId: TENANT, payload: { orderId: 'o-6' } });
    const harness = app.get(EventBusTestHarness);
    await harness.waitForIdle();
    expect(harness.failures()).toMatchObject([{ handler: 'OrderHandlers.reject', attempts: 1 }]);
    expect(harness.failures()[0].error).toBeInstanceOf(NonRetryableEventError);
  });

  it('runs ordered handlers too: waitForIdle waits for them, and their retries run at once', async () => {
    moduleRef = await Test.createTestingModule({
      imports: [EventBusTestingModule.forRoot({ logger: false })],
      providers: [StepProjection],
    }).compile();
    await moduleRef.init();
    const bus = moduleRef.get(EventBus);
    for (const workflow of ['a', 'b']) {
      await bus.publishAll(
        [1, 2, 3].map((n) => ({
          type: 'step.done',
          tenantId: TENANT,
          payload: { n },
          metadata: { workflowId: workflow },
        })),
      );
    }
    await moduleRef.get(EventBusTestHarness).waitForIdle({ timeoutMs: 5_000 });
    const seen = moduleRef.get(StepProjection).seen;
    for (const workflow of ['a', 'b']) {
      expect(seen.filter((call) => call.workflow === workflow)).toEqual([
        { workflow, version: 1, attempt: 1 },
        { workflow, version: 2, attempt: 1 },
        { workflow, version: 2, attempt: 2 },
        { workflow, version: 3, attempt: 1 },
      ]);
    }
  });

  it('waits for idle across events that handlers publish', async () => {
    const app = await start();
    await app.get(EventBus).publish({ type: 'order.paid', tenantId: TENANT, payload: { orderId: 'o-7' } });
    const harness = app.get(EventBusTestHarness);
    await harness.waitForIdle();
    expect(harness.published().map((event) => [event.type, event.status])).toEqual([
      ['order.paid', 'processed'],
      ['shipment.requested', 'processed'],
    ]);
  });

  it('refuses publishing before the module is initialized, saying how to start it', async () => {
    moduleRef = await Test.createTestingModule({
      imports: [EventBusTestingModule.forRoot({ logger: false })],
    }).compile();
    const error = await moduleRef
      .get(EventBus)
      .publish(placed(randomUUID()))
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(EventBusNotReadyError);
    expect((error as Error).message).toContain('moduleRef.init()');
  });

  it('closes the bus with the module', async () => {
    const app = await start();
    const bus = app.get(EventBus);
    await app.close();
    moduleRef = undefined;
    expect(bus.readiness()).toEqual({ ready: false, reason: 'the event bus is closed' });
  });
});
