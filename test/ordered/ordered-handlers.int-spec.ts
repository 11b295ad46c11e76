import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { EventBus, EventContext, NewDomainEvent, StoredEvent, SubscribeOptions } from '@app/event-bus';
import { createTestBus, transportBackends, type TestBus } from '../support/bus.js';
import { createTestDatabase, waitFor, type TestDatabase } from '../support/database.js';
import { TENANT_A } from '../delivery/delivery-helpers.js';

/**
 * DESIGN.md 6.6: ordered handlers are fed by a checkpointed reader of the log, one event at a time per
 * partition key (tenant + workflow) in order, keys in parallel; retries wait in place; exhausted
 * events park or block their key; `startFrom`, `resetOrderedHandler` and `getOrderedHandlers`.
 */
const backend = transportBackends()[0];

describe('ordered handlers', () => {
  let db: TestDatabase;
  let buses: TestBus[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('ordered-handlers');
  });

  afterEach(async () => {
    await Promise.all(buses.map((t) => t.close()));
    buses = [];
  });

  afterAll(async () => {
    await db?.drop();
  });

  /** A consuming bus whose handlers `setup` subscribes before it starts. */
  async function startBus(setup: (bus: EventBus) => Promise<void>): Promise<TestBus> {
    const t = await createTestBus({ db, backend, suite: 'ordered', initialize: false, orderedTakeoverMs: 1500 });
    buses.push(t);
    await setup(t.bus);
    await t.bus.initialize();
    return t;
  }

  function workflowEvent(type: string, workflowId: string, n: number): NewDomainEvent {
    return { type, tenantId: TENANT_A, payload: { n }, metadata: { workflowId } };
  }

  /** What a handler saw, per workflow, in call order. */
  function recorder() {
    const seen = new Map<string, number[]>();
    const record = (event: StoredEvent): void => {
      const workflow = String(event.metadata?.workflowId);
      seen.set(workflow, [...(seen.get(workflow) ?? []), (event.payload as { n: number }).n]);
    };
    const count = (): number => [...seen.values()].reduce((sum, list) => sum + list.length, 0);
    return { seen, record, count };
  }

  it('runs each workflow one event at a time in order, workflows in parallel, under concurrent writers', async () => {
    const type = `ordered.concurrent.${randomUUID().slice(0, 8)}`;
    const { seen, record, count } = recorder();
    const running = new Set<string>();
    let overlaps = 0;
    let mostAtOnce = 0;
    const t = await startBus((bus) =>
      bus
        .subscribe(
          type,
          async (event: StoredEvent) => {
            const workflow = String(event.metadata?.workflowId);
            if (running.has(workflow)) overlaps += 1;
            running.add(workflow);
            mostAtOnce = Math.max(mostAtOnce, running.size);
            await sleep(Math.floor(Math.random() * 4)); // work of varying length, so keys overtake each other
            record(event);
            running.delete(workflow);
          },
          { name: 'ordered-concurrent', ordered: true, startFrom: 'beginning' },
        )
        .then(() => undefined),
    );

    // 4 writers, 3 workflows each, 15 events per workflow: each workflow's events one after another
    // (a causal chain), single publishes, batches and transactions interleaved across writers.
    const workflows = Array.from({ length: 12 }, (_, i) => `wf-${i}-${randomUUID().slice(0, 6)}`);
    await Promise.all(
      [0, 1, 2, 3].map(async (writer) => {
        const mine = workflows.filter((_, i) => i % 4 === writer);
        for (let n = 1; n <= 15; n += 3) {
          for (const workflow of mine) {
            const events = [n, n + 1, n + 2].map((k) => workflowEvent(type, workflow, k));
            if (writer === 0) await t.bus.publishAll(events);
            else if (writer === 1) {
              await db.dataSource.transaction((manager) => t.bus.publishAll(events, { manager }));
            } else for (const event of events) await t.bus.publish(event);
          }
        }
      }),
    );

    await waitFor(() => count() === 12 * 15, { timeoutMs: 30_000, message: 'every event handled' });
    const expected = Array.from({ length: 15 }, (_, i) => i + 1);
    for (const workflow of workflows) expect([workflow, seen.get(workflow)]).toEqual([workflow, expected]);
    expect(overlaps).toBe(0);
    expect(mostAtOnce).toBeGreaterThan(1);
    // Ordered handlers are not queue handlers: the events are processed with none.
    const [standing] = await t.bus.getOrderedHandlers();
    expect(standing).toMatchObject({ handler: 'ordered-concurrent', parked: 0 });
    expect(standing.owners).toHaveLength(1);
  });

  it("starts a new handler at the log's end with startFrom 'now', at its start with 'beginning'", async () => {
    const type = `ordered.start.${randomUUID().slice(0, 8)}`;
    const writer = await startBus(async () => undefined);
    await writer.bus.publishAll([1, 2, 3].map((n) => workflowEvent(type, 'history', n)));

    const fromNow = recorder();
    const fromStart = recorder();
    const t = await startBus(async (bus) => {
      await bus.subscribe(type, fromNow.record, { name: 'ordered-from-now', ordered: true, startFrom: 'now' });
      await bus.subscribe(type, fromStart.record, {
        name: 'ordered-from-start',
        ordered: true,
        startFrom: 'beginning',
      });
    });
    await t.bus.publishAll([4, 5].map((n) => workflowEvent(type, 'history', n)));

    await waitFor(() => fromStart.count() === 5 && fromNow.count() === 2, { message: 'both handlers fed' });
    expect(fromStart.seen.get('history')).toEqual([1, 2, 3, 4, 5]);
    expect(fromNow.seen.get('history')).toEqual([4, 5]);
  });

  it('retries in place: only the failing key waits, and an exhausted event is parked as a failed delivery', async () => {
    const type = `ordered.retry.${randomUUID().slice(0, 8)}`;
    const { seen, record } = recorder();
    let gateOpen = false;
    let failuresOfA2 = 0;
    const options: SubscribeOptions = {
      name: 'ordered-retry',
      ordered: true,
      startFrom: 'beginning',
      retry: { maxAttempts: 1000, backoff: { type: 'fixed', delay: 10 } },
    };
    const t = await startBus((bus) =>
      bus
        .subscribe(
          type,
          (event: StoredEvent) => {
            if (event.metadata?.workflowId === 'A' && (event.payload as { n: number }).n === 2 && !gateOpen) {
              failuresOfA2 += 1;
              throw new Error('A2 is not ready');
            }
            record(event);
          },
          options,
        )
        .then(() => undefined),
    );
    await t.bus.publishAll([1, 2, 3, 4].map((n) => workflowEvent(type, 'A', n)));
    await t.bus.publishAll([1, 2, 3, 4].map((n) => workflowEvent(type, 'B', n)));

    // B finishes while A is held at its second event, retried in place.
    await waitFor(() => seen.get('B')?.length === 4 && failuresOfA2 >= 3, { message: 'B done while A2 retries' });
    expect(seen.get('A')).toEqual([1]);
    gateOpen = true;
    await waitFor(() => seen.get('A')?.length === 4, { message: 'A goes on once A2 succeeds' });
    expect(seen.get('A')).toEqual([1, 2, 3, 4]);

    // A handler whose policy runs out parks the event: recorded as failed, and its key goes on.
    const parkType = `ordered.park.${randomUUID().slice(0, 8)}`;
    const parked = recorder();
    await t.bus.close();
    const p = await startBus((bus) =>
      bus
        .subscribe(
          parkType,
          (event: StoredEvent) => {
            if ((event.payload as { n: number }).n === 2) throw new Error('two is refused');
            parked.record(event);
          },
          {
            name: 'ordered-park',
            ordered: true,
            startFrom: 'beginning',
            retry: { maxAttempts: 2, backoff: { type: 'fixed', delay: 10 } },
          },
        )
        .then(() => undefined),
    );
    const [, two] = await p.bus.publishAll([1, 2, 3].map((n) => workflowEvent(parkType, 'P', n)));
    await waitFor(() => parked.seen.get('P')?.length === 2, { message: 'P goes past its parked event' });
    expect(parked.seen.get('P')).toEqual([1, 3]);
    const failed = await p.bus.getFailedDeliveries({ handler: 'ordered-park' });
    expect(failed).toEqual([
      expect.objectContaining({ eventId: two.id, attempts: 2, lastError: 'Error: two is refused' }),
    ]);
    const standing = (await p.bus.getOrderedHandlers()).find((s) => s.handler === 'ordered-park');
    expect(standing?.parked).toBe(1);
  });

  it("blocks the key with onExhausted 'block' until retryFailed re-drives the event", async () => {
    const type = `ordered.block.${randomUUID().slice(0, 8)}`;
    const { seen, record } = recorder();
    let refuse = true;
    const t = await startBus((bus) =>
      bus
        .subscribe(
          type,
          (event: StoredEvent) => {
            if (event.metadata?.workflowId === 'A' && (event.payload as { n: number }).n === 2 && refuse) {
              throw new Error('refused');
            }
            record(event);
          },
          {
            name: 'ordered-block',
            ordered: true,
            startFrom: 'beginning',
            onExhausted: 'block',
            retry: { maxAttempts: 2, backoff: { type: 'fixed', delay: 10 } },
          },
        )
        .then(() => undefined),
    );
    await t.bus.publishAll([1, 2, 3].map((n) => workflowEvent(type, 'A', n)));
    await waitFor(async () => (await t.bus.getFailedDeliveries({ handler: 'ordered-block' })).length === 1, {
      message: 'A2 recorded as failed',
    });
    // Events of the blocked key published later wait too; another key goes on.
    await t.bus.publishAll([4].map((n) => workflowEvent(type, 'A', n)));
    await t.bus.publishAll([1, 2].map((n) => workflowEvent(type, 'B', n)));
    await waitFor(() => seen.get('B')?.length === 2, { message: 'B handled' });
    expect(seen.get('A')).toEqual([1]);

    refuse = false;
    expect(await t.bus.retryFailed({ handler: 'ordered-block' })).toBe(1);
    await waitFor(() => seen.get('A')?.length === 4, { timeoutMs: 15_000, message: 'A unblocked' });
    expect(seen.get('A')).toEqual([1, 2, 3, 4]);
  });

  it('rebuilds a transactional projection with resetOrderedHandler to what a fresh handler builds', async () => {
    const type = `ordered.projection.${randomUUID().slice(0, 8)}`;
    await db.dataSource.query(`CREATE TABLE IF NOT EXISTS ordered_projection (
      handler text, workflow_id text, events int NOT NULL, last_n int NOT NULL, PRIMARY KEY (handler, workflow_id))`);
    const project = (name: string) => async (event: StoredEvent, context: EventContext) => {
      expect(context.manager).toBeDefined();
      await context.manager!.query(
        `INSERT INTO ordered_projection AS p (handler, workflow_id, events, last_n) VALUES ($1, $2, 1, $3)
         ON CONFLICT (handler, workflow_id) DO UPDATE SET events = p.events + 1, last_n = EXCLUDED.last_n`,
        [name, event.metadata?.workflowId, (event.payload as { n: number }).n],
      );
    };
    const rows = (name: string) =>
      db.dataSource.query<Array<{ workflow_id: string; events: number; last_n: number }>>(
        `SELECT workflow_id, events, last_n FROM ordered_projection WHERE handler = $1 ORDER BY workflow_id`,
        [name],
      );
    const total = async (name: string) => (await rows(name)).reduce((sum, row) => sum + row.events, 0);

    const t = await startBus((bus) =>
      bus
        .subscribe(type, project('rebuilt'), {
          name: 'projection-rebuilt',
          ordered: true,
          transactional: true,
          startFrom: 'beginning',
        })
        .then(() => undefined),
    );
    for (const workflow of ['x', 'y', 'z']) {
      await t.bus.publishAll([1, 2, 3, 4].map((n) => workflowEvent(type, workflow, n)));
    }
    await waitFor(async () => (await total('rebuilt')) === 12, { message: 'projection built' });
    const built = await rows('rebuilt');
    expect(built).toEqual(['x', 'y', 'z'].map((workflow_id) => ({ workflow_id, events: 4, last_n: 4 })));

    await db.dataSource.query(`DELETE FROM ordered_projection WHERE handler = 'rebuilt'`);
    await t.bus.resetOrderedHandler('projection-rebuilt');
    await waitFor(async () => (await total('rebuilt')) === 12, { message: 'projection rebuilt' });
    expect(await rows('rebuilt')).toEqual(built);

    await expect(t.bus.resetOrderedHandler('no-such-handler')).rejects.toThrow('no ordered handler is named');
    const [standing] = await t.bus.getOrderedHandlers();
    await waitFor(async () => (await t.bus.getOrderedHandlers())[0].lag === 0, { message: 'no lag left' });
    expect(standing.handler).toBe('projection-rebuilt');
  });

  it('shares the buckets between processes (each its fair share), in order, and takes them all back from one that stops', async () => {
    const type = `ordered.share.${randomUUID().slice(0, 8)}`;
    const first = recorder();
    const second = recorder();
    const options: SubscribeOptions = { name: 'ordered-share', ordered: true, startFrom: 'beginning' };
    const a = await startBus((bus) => bus.subscribe(type, first.record, options).then(() => undefined));
    const held = async () =>
      db.dataSource.query<Array<{ owner: string; buckets: number }>>(
        `SELECT owner, count(*)::int AS buckets FROM event_bus_ordered_checkpoints
         WHERE handler = 'ordered-share' AND owner IS NOT NULL GROUP BY owner ORDER BY owner`,
      );
    await waitFor(async () => (await held()).length === 1 && (await held())[0].buckets === 16, {
      message: 'the first process holds every bucket',
    });
    const b = await startBus((bus) => bus.subscribe(type, second.record, options).then(() => undefined));
    await waitFor(
      async () => {
        const owners = await held();
        return owners.length === 2 && owners.every((owner) => owner.buckets === 8);
      },
      { timeoutMs: 15_000, message: 'eight buckets each' },
    );

    const workflows = Array.from({ length: 24 }, (_, i) => `share-${i}`);
    for (const workflow of workflows) await a.bus.publishAll([1, 2, 3].map((n) => workflowEvent(type, workflow, n)));
    await waitFor(() => first.count() + second.count() === 72, { message: 'every event handled' });
    // Both processes worked, and each workflow went to one of them, in order.
    expect(first.count()).toBeGreaterThan(0);
    expect(second.count()).toBeGreaterThan(0);
    for (const workflow of workflows) {
      const all = [...(first.seen.get(workflow) ?? []), ...(second.seen.get(workflow) ?? [])];
      expect([workflow, all]).toEqual([workflow, [1, 2, 3]]);
    }

    await b.close(); // its buckets and membership go back: the first process takes all of them again
    await waitFor(async () => (await held()).length === 1 && (await held())[0].buckets === 16, {
      timeoutMs: 15_000,
      message: 'the first process holds every bucket again',
    });
  });

  it("takes over a stopped process's keys, skipping nothing and repeating nothing done", async () => {
    const type = `ordered.takeover.${randomUUID().slice(0, 8)}`;
    const first = recorder();
    const second = recorder();
    const options: SubscribeOptions = { name: 'ordered-takeover', ordered: true, startFrom: 'beginning' };
    const a = await startBus((bus) => bus.subscribe(type, first.record, options).then(() => undefined));
    const b = await startBus((bus) => bus.subscribe(type, second.record, options).then(() => undefined));
    const workflows = ['k1', 'k2', 'k3', 'k4', 'k5', 'k6'];
    for (const workflow of workflows) await a.bus.publishAll([1, 2].map((n) => workflowEvent(type, workflow, n)));
    await waitFor(() => first.count() + second.count() === 12, { message: 'first events handled' });
    const owners = (await b.bus.getOrderedHandlers())[0].owners;
    expect(owners.length).toBeGreaterThanOrEqual(1);

    await a.close(); // gives its buckets back: the other process takes them
    for (const workflow of workflows) await b.bus.publishAll([3, 4].map((n) => workflowEvent(type, workflow, n)));
    await waitFor(() => first.count() + second.count() === 24, { timeoutMs: 15_000, message: 'taken over' });
    for (const workflow of workflows) {
      const all = [...(first.seen.get(workflow) ?? []), ...(second.seen.get(workflow) ?? [])];
      expect([workflow, all]).toEqual([workflow, [1, 2, 3, 4]]);
    }
    expect(second.count()).toBeGreaterThanOrEqual(12);
  });
});
