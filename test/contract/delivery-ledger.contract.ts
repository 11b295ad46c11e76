/**
 * The `DeliveryLedger` contract: the store side of delivery (job ids, statuses, handler records,
 * failed deliveries and their re-drive, the outbox, the unfinished events) as the TypeORM ledger
 * keeps it in PostgreSQL and the in-memory ledger of `InMemoryEventStore` keeps it in memory. The
 * bus contract sees these through the bus; here each rule the transports rely on is pinned on its own.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { EventStore, StoredEvent } from '@app/event-bus';
import type { DeliveryLedger } from '../../libs/event-bus/src/core/ports/delivery-ledger.js';
import type { DeliveryRecordWrite } from '../../libs/event-bus/src/core/ports/delivery-records.js';
import type { FailedDeliveryClaim } from '../../libs/event-bus/src/core/ports/failed-delivery-records.js';

export interface DeliveryLedgerSubject {
  store: EventStore;
  ledger: DeliveryLedger;
  /** Removes every event and delivery record. */
  clear(): Promise<void>;
  close(): Promise<void>;
}

export function deliveryLedgerContract(open: () => Promise<DeliveryLedgerSubject>): void {
  let subject: DeliveryLedgerSubject;
  let store: EventStore;
  let ledger: DeliveryLedger;
  let tenantId: string;

  beforeAll(async () => {
    subject = await open();
    ({ store, ledger } = subject);
  });
  afterAll(() => subject?.close());
  beforeEach(async () => {
    await subject.clear();
    tenantId = randomUUID();
  });

  const stored = (type = 'order.placed'): Promise<StoredEvent> => store.save({ type, tenantId, payload: null });
  const statusOf = async (id: string): Promise<unknown> => (await store.findById(id))?.status;
  const jobIdOf = async (id: string): Promise<unknown> => (await store.findById(id))?.metadata?.jobId;
  const record = (eventId: string, overrides: Partial<DeliveryRecordWrite> = {}): DeliveryRecordWrite => ({
    eventId,
    handler: 'h',
    status: 'retrying',
    attempts: 1,
    lastError: 'Error: first',
    jobId: `${eventId}__h`,
    ...overrides,
  });

  describe('job ids and statuses', () => {
    it('records a job id where none is recorded, and keeps a recorded one', async () => {
      const event = await stored();
      await ledger.jobIds.recordJobIds([event.id], ['job-1']);
      await ledger.jobIds.recordJobIds([event.id], ['job-2']);
      expect(await jobIdOf(event.id)).toBe('job-1');
    });

    it('moves pending → processing once, filling a missing job id; processed from pending or processing', async () => {
      const [a, b] = [await stored(), await stored()];
      expect([...(await ledger.statuses.markProcessing([a.id, b.id], ['ja', 'jb']))].sort()).toEqual(
        [a.id, b.id].sort(),
      );
      expect([...(await ledger.statuses.markProcessing([a.id], ['other']))]).toEqual([]);
      expect(await jobIdOf(a.id)).toBe('ja');
      const c = await stored();
      await ledger.statuses.markProcessed([a.id, c.id], ['x', 'jc']);
      expect([await statusOf(a.id), await statusOf(b.id), await statusOf(c.id)]).toEqual([
        'processed',
        'processing',
        'processed',
      ]);
      expect([await jobIdOf(a.id), await jobIdOf(c.id)]).toEqual(['ja', 'jc']);
      expect([...(await ledger.statuses.markProcessing([a.id], ['ja']))]).toEqual([]);
    });
  });

  describe('delivery records', () => {
    it('inserts missing records only, and reads them with the event status', async () => {
      const event = await stored();
      await ledger.deliveries.insertMissing([
        record(event.id),
        record(event.id, { handler: 'ok', status: 'succeeded', lastError: null, jobId: null }),
      ]);
      await ledger.deliveries.insertMissing([record(event.id, { attempts: 7 })]);
      const state = await ledger.deliveries.eventState(event.id);
      expect(state?.status).toBe('pending');
      expect(state?.records.sort((x, y) => x.handler.localeCompare(y.handler))).toEqual([
        {
          eventId: event.id,
          handler: 'h',
          status: 'retrying',
          attempts: 1,
          lastError: 'Error: first',
          failedAt: null,
          run: 0,
          jobId: `${event.id}__h`,
        },
        {
          eventId: event.id,
          handler: 'ok',
          status: 'succeeded',
          attempts: 1,
          lastError: null,
          failedAt: null,
          run: 0,
          jobId: null,
        },
      ]);
      expect(await ledger.deliveries.eventState(randomUUID())).toBeNull();
    });

    it('lets only the owning job save an attempt; returns the status before', async () => {
      const event = await stored();
      await expect(ledger.deliveries.saveAttempt(record(event.id))).resolves.toBeNull();
      await expect(ledger.deliveries.saveAttempt(record(event.id, { attempts: 2, lastError: null }))).resolves.toBe(
        'retrying',
      );
      await expect(
        ledger.deliveries.saveAttempt(record(event.id, { jobId: 'stale', status: 'succeeded' })),
      ).resolves.toBeUndefined();
      const [saved] = (await ledger.deliveries.eventState(event.id))!.records;
      // A null error keeps the last one.
      expect(saved).toMatchObject({ status: 'retrying', attempts: 2, lastError: 'Error: first' });
      await ledger.deliveries.saveAttempt(
        record(event.id, { status: 'failed', attempts: 3, lastError: 'Error: third' }),
      );
      const [failed] = (await ledger.deliveries.eventState(event.id))!.records;
      expect(failed).toMatchObject({
        status: 'failed',
        attempts: 3,
        lastError: 'Error: third',
        failedAt: expect.any(Date),
      });
    });

    it('finalizes an event once nothing is retrying: failed when a delivery failed, processed otherwise', async () => {
      const [failing, fine] = [await stored(), await stored()];
      for (const event of [failing, fine]) await ledger.statuses.markProcessing([event.id], [event.id]);
      await ledger.deliveries.insertMissing([record(failing.id), record(fine.id)]);
      await ledger.deliveries.finalizeEvent(failing.id, failing.id);
      expect(await statusOf(failing.id)).toBe('processing');
      await ledger.deliveries.saveAttempt(record(failing.id, { status: 'failed', attempts: 2 }));
      await ledger.deliveries.saveAttempt(record(fine.id, { status: 'succeeded', attempts: 2, lastError: null }));
      await ledger.deliveries.finalizeEvent(failing.id, failing.id);
      await ledger.deliveries.finalizeEvent(fine.id, fine.id);
      expect([await statusOf(failing.id), await statusOf(fine.id)]).toEqual(['failed', 'processed']);
      await ledger.deliveries.reopenEvent(failing.id);
      await ledger.deliveries.reopenEvent(fine.id);
      expect([await statusOf(failing.id), await statusOf(fine.id)]).toEqual(['processing', 'processed']);
    });

    it('settles a carried failure of a retrying record its job owns, once', async () => {
      const event = await stored();
      await ledger.deliveries.insertMissing([record(event.id)]);
      const carried = { eventId: event.id, handler: 'h', attempts: 1, jobId: `${event.id}__h` };
      await expect(ledger.deliveries.settleCarriedFailure({ ...carried, jobId: 'other' })).resolves.toBe(false);
      await expect(ledger.deliveries.settleCarriedFailure(carried)).resolves.toBe(true);
      await expect(ledger.deliveries.settleCarriedFailure(carried)).resolves.toBe(false);
      expect((await ledger.deliveries.eventState(event.id))!.records[0]).toMatchObject({
        status: 'failed',
        lastError: 'Error: first',
      });
    });
  });

  describe('prune and delivery records', () => {
    const before = new Date('2030-01-01T00:00:00.000Z');

    it('keeps an event while a delivery is retrying, and one with a failed delivery unless failed events are asked for', async () => {
      const [retrying, failedRecord, succeeded] = [await stored(), await stored(), await stored()];
      await ledger.deliveries.insertMissing([
        record(retrying.id),
        record(failedRecord.id, { status: 'failed' }),
        record(succeeded.id, { status: 'succeeded', lastError: null }),
      ]);
      // Statuses as they may stand for a moment (a re-drive reopening, a carried failure settling):
      // the records decide, whatever the event's own status says.
      for (const event of [retrying, failedRecord, succeeded]) await store.updateStatus(event.id, 'processed');
      expect(await store.prune({ before })).toBe(1);
      expect(await ledger.deliveries.eventState(succeeded.id)).toBeNull();
      expect(await store.prune({ before, status: ['processed', 'failed'] })).toBe(1);
      expect(await store.findById(failedRecord.id)).toBeNull();
      expect((await ledger.failed.listFailed({})).map((failure) => failure.eventId)).toEqual([]);
      expect((await ledger.deliveries.eventState(retrying.id))?.records).toHaveLength(1);
    });
  });

  describe('failed deliveries', () => {
    async function failedDelivery(handler: string, type = 'order.placed', workflowId?: string): Promise<StoredEvent> {
      const metadata = workflowId === undefined ? undefined : { workflowId };
      const event = await store.save({ type, tenantId, payload: null, metadata });
      await ledger.statuses.markProcessing([event.id], [event.id]);
      await ledger.deliveries.insertMissing([record(event.id, { handler, jobId: `${event.id}__${handler}` })]);
      await ledger.deliveries.saveAttempt(
        record(event.id, { handler, status: 'failed', attempts: 2, jobId: `${event.id}__${handler}` }),
      );
      await ledger.deliveries.finalizeEvent(event.id, event.id);
      return event;
    }

    it('lists failures oldest first, by event, handler and tenant', async () => {
      const first = await failedDelivery('a');
      const second = await failedDelivery('b');
      const listed = await ledger.failed.listFailed({ tenantId });
      expect(listed).toEqual([
        { eventId: first.id, handler: 'a', attempts: 2, lastError: 'Error: first', failedAt: expect.any(String) },
        { eventId: second.id, handler: 'b', attempts: 2, lastError: 'Error: first', failedAt: expect.any(String) },
      ]);
      expect(await ledger.failed.listFailed({ handler: 'b' })).toEqual([listed[1]]);
      expect(await ledger.failed.listFailed({ eventId: first.id })).toEqual([listed[0]]);
      expect(await ledger.failed.listFailed({ tenantId: randomUUID() })).toEqual([]);
    });

    it('pages failures with a keyset cursor (the last item of the page before), and finds them by event type and workflow id', async () => {
      const made = [
        await failedDelivery('a', 'order.placed', 'wf-1'),
        await failedDelivery('b', 'order.shipped', 'wf-1'),
        await failedDelivery('a', 'order.shipped', 'wf-2'),
        await failedDelivery('c', 'order.placed', 'wf-2'),
        await failedDelivery('a', 'order.placed', 'wf-3'),
      ];
      const all = await ledger.failed.listFailed({ tenantId });
      expect(all.map((failure) => failure.eventId)).toEqual(made.map((event) => event.id));

      const pages: (typeof all)[] = [];
      for (let after: (typeof all)[number] | undefined; ;) {
        const page = await ledger.failed.listFailed({ tenantId, limit: 2, after });
        if (page.length === 0) break;
        pages.push(page);
        after = page.at(-1);
      }
      expect(pages.map((page) => page.length)).toEqual([2, 2, 1]);
      expect(pages.flat()).toEqual(all);

      const ids = (failures: typeof all): string[] => failures.map((failure) => failure.eventId);
      expect(ids(await ledger.failed.listFailed({ tenantId, eventType: 'order.shipped' }))).toEqual([
        made[1].id,
        made[2].id,
      ]);
      expect(ids(await ledger.failed.listFailed({ tenantId, workflowId: 'wf-2' }))).toEqual([made[2].id, made[3].id]);
      expect(
        ids(await ledger.failed.listFailed({ tenantId, workflowId: 'wf-2', handler: 'a', eventType: 'order.shipped' })),
      ).toEqual([made[2].id]);
      expect(ids(await ledger.failed.listFailed({ tenantId, handler: 'a', limit: 2, after: all[0] }))).toEqual([
        made[2].id,
        made[4].id,
      ]);
    });

    it('re-drives: plans the claims, marks them retrying in a new run, then reports the replaced jobs', async () => {
      const event = await failedDelivery('a');
      const planned: FailedDeliveryClaim[] = [];
      const replaced: string[] = [];
      const count = await ledger.failed.redriveFailed(
        { eventId: event.id },
        (claims) => {
          planned.push(...claims);
          return { jobIds: claims.map(() => 'new-job'), enqueue: async () => undefined };
        },
        async (ids) => void replaced.push(...ids),
      );
      expect(count).toBe(1);
      expect(planned).toMatchObject([
        { event: { id: event.id }, handler: 'a', run: 1, replacedJobId: `${event.id}__a` },
      ]);
      expect(replaced).toEqual([`${event.id}__a`]);
      expect(await statusOf(event.id)).toBe('processing');
      expect((await ledger.deliveries.eventState(event.id))!.records).toMatchObject([
        { status: 'retrying', attempts: 0, failedAt: null, run: 1, jobId: 'new-job' },
      ]);
      expect(await ledger.failed.listFailed({ eventId: event.id })).toEqual([]);
    });

    it('re-drives only the failures of the workflow or event type asked for', async () => {
      const [mine, other, shipped] = [
        await failedDelivery('a', 'order.placed', 'wf-mine'),
        await failedDelivery('a', 'order.placed', 'wf-other'),
        await failedDelivery('b', 'order.shipped', 'wf-other'),
      ];
      const plan = (claims: readonly FailedDeliveryClaim[]) => ({
        jobIds: claims.map((claim) => `new-${claim.event.id}`),
        enqueue: async () => undefined,
      });
      expect(await ledger.failed.redriveFailed({ tenantId, workflowId: 'wf-mine' }, plan, async () => undefined)).toBe(
        1,
      );
      expect(
        await ledger.failed.redriveFailed({ tenantId, eventType: 'order.shipped' }, plan, async () => undefined),
      ).toBe(1);
      expect((await ledger.failed.listFailed({ tenantId })).map((failure) => failure.eventId)).toEqual([other.id]);
      expect([await statusOf(mine.id), await statusOf(shipped.id)]).toEqual(['processing', 'processing']);
    });

    it('puts a re-drive back when its enqueue fails', async () => {
      const event = await failedDelivery('a');
      const refused = await ledger.failed
        .redriveFailed(
          {},
          (claims) => ({ jobIds: claims.map(() => 'new-job'), enqueue: () => Promise.reject(new Error('queue down')) }),
          async () => undefined,
        )
        .catch((error: unknown) => error);
      expect(refused).toMatchObject({ message: expect.stringContaining('queue down') });
      expect(await statusOf(event.id)).toBe('failed');
      expect(await ledger.failed.listFailed({ eventId: event.id })).toMatchObject([{ handler: 'a', attempts: 2 }]);
    });
  });

  describe('unfinished events and the outbox', () => {
    it('lists unfinished events and the retrying deliveries of given ones', async () => {
      const [pending, processing, done] = [await stored(), await stored(), await stored()];
      await ledger.statuses.markProcessing([processing.id], ['jp']);
      await ledger.statuses.markProcessed([done.id], ['jd']);
      await ledger.deliveries.insertMissing([record(processing.id)]);
      const { unfinished } = ledger;
      expect(await unfinished.lastSequence()).toBe(done.sequenceNumber);
      expect(await unfinished.unfinishedAfter(0, 10, 0)).toMatchObject([
        { id: pending.id, status: 'pending', jobId: null, stale: true },
        { id: processing.id, status: 'processing', jobId: 'jp', stale: true },
      ]);
      expect(await unfinished.unfinishedAfter(pending.sequenceNumber, 10, 60_000)).toMatchObject([
        { id: processing.id, stale: false },
      ]);
      expect(await unfinished.unfinishedAmong([done.id, pending.id])).toEqual([pending.id]);
      expect((await unfinished.loadUnfinished([processing.id])).map((e) => e.id)).toEqual([processing.id]);
      expect(await unfinished.retryingDeliveries([processing.id, pending.id])).toEqual([
        { eventId: processing.id, handler: 'h', attempts: 1, run: 0, jobId: `${processing.id}__h` },
      ]);
    });

    it('reads the gauges: failed deliveries, and the events not dispatched yet with the age of the oldest', async () => {
      expect(await ledger.gauges.read()).toEqual({ failedDeliveries: 0, outboxPending: 0, outboxOldestSeconds: 0 });
      const [a, b, failed] = [await stored(), await stored(), await stored()];
      await ledger.jobIds.recordJobIds([b.id], ['jb']);
      await ledger.statuses.markProcessing([failed.id], [failed.id]);
      await ledger.deliveries.insertMissing([record(failed.id)]);
      await ledger.deliveries.saveAttempt(record(failed.id, { status: 'failed', attempts: 2 }));
      const gauges = await ledger.gauges.read();
      expect(gauges).toMatchObject({ failedDeliveries: 1, outboxPending: 1 });
      expect(gauges.outboxOldestSeconds).toBeGreaterThanOrEqual(0);
      await ledger.jobIds.recordJobIds([a.id], ['ja']);
      expect(await ledger.gauges.read()).toMatchObject({ outboxPending: 0, outboxOldestSeconds: 0 });
    });

    it('claims the events not dispatched yet and records the job ids their dispatch resolved to', async () => {
      const [a, b] = [await stored(), await stored()];
      await ledger.jobIds.recordJobIds([b.id], ['jb']);
      const dispatched: string[] = [];
      const claimed = await ledger.outbox.claimPending({ batchSize: 10, olderThanMs: 0 }, async (events) => {
        dispatched.push(...events.map((event) => event.id));
        return events.map((event) => `job-${event.id}`);
      });
      expect(claimed).toBe(1);
      expect(dispatched).toEqual([a.id]);
      expect(await jobIdOf(a.id)).toBe(`job-${a.id}`);
      await expect(ledger.outbox.claimPending({ batchSize: 10, olderThanMs: 0 }, async () => [])).resolves.toBe(0);
    });

    it("tells how long the outbox's oldest event has waited, and null when nothing waits", async () => {
      expect(await ledger.outbox.oldestPendingAgeMs()).toBeNull();
      const before = Date.now();
      const [oldest, dispatched] = [await stored(), await stored()];
      await ledger.jobIds.recordJobIds([dispatched.id], ['jd']);
      const age = await ledger.outbox.oldestPendingAgeMs();
      // Measured by the store's own clock: at least 0, and no older than this test.
      expect(age).toBeGreaterThanOrEqual(0);
      expect(age).toBeLessThanOrEqual(Date.now() - before + 1000);
      await ledger.jobIds.recordJobIds([oldest.id], ['jo']);
      expect(await ledger.outbox.oldestPendingAgeMs()).toBeNull();
    });
  });

  describe('the inbox of transactional handlers', () => {
    /** A promise and the function that resolves it, to hold a run open while another one starts. */
    const gate = (): { opened: Promise<void>; open: () => void } => {
      let open = (): void => undefined;
      const opened = new Promise<void>((resolve) => (open = resolve));
      return { opened, open };
    };

    it("runs the work, then alsoInTransaction, once per (event, handler); the manager is the transaction's", async () => {
      const [a, b] = [await stored(), await stored()];
      const seen: string[] = [];
      const managers: unknown[] = [];
      const run = (eventId: string, handler: string) =>
        ledger.inbox.runOnce(
          eventId,
          handler,
          async (manager) => {
            managers.push(manager);
            seen.push(`work ${eventId === a.id ? 'a' : 'b'} ${handler}`);
          },
          async (manager) => {
            expect(manager).toBe(managers[managers.length - 1]);
            seen.push('also');
          },
        );
      expect(await run(a.id, 'h')).toBe('ran');
      expect(await run(a.id, 'h')).toBe('skipped');
      expect(await run(a.id, 'other')).toBe('ran');
      expect(await run(b.id, 'h')).toBe('ran');
      expect(seen).toEqual(['work a h', 'also', 'work a other', 'also', 'work b h', 'also']);
      for (const manager of managers) {
        if (ledger.inbox.transactional)
          expect(manager).toEqual(expect.objectContaining({ query: expect.any(Function) }));
        else expect(manager).toBeUndefined();
      }
    });

    it('leaves no mark when the work or alsoInTransaction throws, and rethrows', async () => {
      const event = await stored();
      const boom = new Error('boom');
      await expect(
        ledger.inbox.runOnce(event.id, 'h', async () => {
          throw boom;
        }),
      ).rejects.toBe(boom);
      await expect(
        ledger.inbox.runOnce(
          event.id,
          'h',
          async () => undefined,
          async () => {
            throw boom;
          },
        ),
      ).rejects.toBe(boom);
      let ran = 0;
      expect(await ledger.inbox.runOnce(event.id, 'h', async () => void (ran += 1))).toBe('ran');
      expect(ran).toBe(1);
    });

    it('makes a concurrent duplicate wait for the run under way, then skip it (or run, if it failed)', async () => {
      const [a, b] = [await stored(), await stored()];
      for (const [event, fails] of [
        [a, false],
        [b, true],
      ] as const) {
        const first = gate();
        const started = gate();
        let calls = 0;
        const running = ledger.inbox.runOnce(event.id, 'h', async () => {
          calls += 1;
          started.open();
          await first.opened;
          if (fails) throw new Error('first run failed');
        });
        await started.opened;
        let duplicateCalled = false;
        const duplicate = ledger.inbox.runOnce(event.id, 'h', async () => {
          duplicateCalled = true;
        });
        first.open();
        if (fails) {
          await expect(running).rejects.toThrow('first run failed');
          expect(await duplicate).toBe('ran');
          expect(duplicateCalled).toBe(true);
        } else {
          expect(await running).toBe('ran');
          expect(await duplicate).toBe('skipped');
          expect(duplicateCalled).toBe(false);
        }
        expect(calls).toBe(1);
      }
    });

    it("runs a replay's work in a transaction without the inbox: every time, leaving no mark", async () => {
      const event = await stored();
      const managers: unknown[] = [];
      await ledger.transactions.run(async (manager) => void managers.push(manager));
      await ledger.transactions.run(async (manager) => void managers.push(manager));
      expect(managers).toHaveLength(2);
      if (!ledger.inbox.transactional) expect(managers).toEqual([undefined, undefined]);
      await expect(
        ledger.transactions.run(async () => {
          throw new Error('replay failed');
        }),
      ).rejects.toThrow('replay failed');
      expect(await ledger.inbox.runOnce(event.id, 'h', async () => undefined)).toBe('ran');
    });

    it('refuses the inbox row of an event that is not stored', async () => {
      await expect(ledger.inbox.runOnce(randomUUID(), 'h', async () => undefined)).rejects.toThrow();
    });
  });
}
