/**
 * `pruneEvents` on PostgreSQL while the bus is busy: publishers keep appending (new events, and
 * old-timestamped ones that stay pending, some on workflows being pruned), handlers hold events in
 * `processing`, retry them or fail them. Prune must delete exactly the finished events before the
 * cutoff that are not a workflow's newest, lose no unfinished one, work in bounded batches, and
 * never make a publish wait for it.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NewDomainEvent, StoredEvent } from '@app/event-bus';
import { createTestBus, transportBackends, type TestBus } from '../support/bus.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { waitFor } from '../support/wait-for.js';
import { newEvent, statuses, waitForStatus } from '../delivery/delivery-helpers.js';

const CUTOFF = new Date('2021-01-01T00:00:00.000Z');
const BATCH_SIZE = 25;
const WORKFLOWS = ['wf-1', 'wf-2', 'wf-3', 'wf-4', 'wf-5'];

/** An old event (before the cutoff), its timestamp spread over 2020 so batches cut through them. */
function oldEvent(type: string, index: number, overrides: Partial<NewDomainEvent> = {}): NewDomainEvent {
  return newEvent(type, { timestamp: new Date(Date.UTC(2020, 0, 1) + index * 60_000).toISOString(), ...overrides });
}

interface StoreRow {
  id: string;
  status: string;
  timestamp: Date;
  workflow_id: string | null;
  sequence_number: string;
}

describe('pruneEvents under concurrent publishing (PostgreSQL)', () => {
  const backend = transportBackends()[0];
  let db: TestDatabase;
  let worker: TestBus;
  /** Publishes to a queue nobody consumes: its events stay `pending`. */
  let publishOnly: TestBus;
  let releaseHeld: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (releaseHeld = resolve));

  const ids = {
    processed: [] as string[],
    workflow: new Map<string, string[]>(),
    failed: [] as string[],
    retrying: [] as string[],
    processing: [] as string[],
    pending: [] as string[],
  };

  beforeAll(async () => {
    db = await createTestDatabase('store-prune');
    // No relay: each bus enqueues its own publishes into its own queue, and neither takes the other's rows.
    const relay = { enabled: false };
    worker = await createTestBus({ db, backend, suite: 'store-prune', concurrency: 20, relay, initialize: false });
    publishOnly = await createTestBus({ db, backend, suite: 'store-prune-publisher', worker: false, relay });
    const { bus } = worker;
    await bus.subscribe(['old.ok', 'new.tick'], async () => undefined, { name: 'ok' });
    await bus.subscribe(
      'old.bad',
      async () => {
        throw new Error('bad for good');
      },
      { name: 'bad', retry: { maxAttempts: 1, backoff: { type: 'fixed', delay: 10 } } },
    );
    await bus.subscribe(
      'old.slow',
      async () => {
        throw new Error('later');
      },
      // The retry waits in the queue for the whole test: the delivery stays `retrying`.
      { name: 'slow', retry: { maxAttempts: 3, backoff: { type: 'fixed', delay: 600_000 } } },
    );
    await bus.subscribe('old.held', () => held, { name: 'held' });
    await bus.initialize();

    const save = async (events: NewDomainEvent[], via: TestBus = worker): Promise<string[]> =>
      (await via.bus.publishAll(events)).map((event: StoredEvent) => event.id);
    ids.processed = await save(Array.from({ length: 120 }, (_, index) => oldEvent('old.ok', index)));
    for (const [w, workflowId] of WORKFLOWS.entries()) {
      const events = Array.from({ length: 8 }, (_, index) =>
        oldEvent('old.ok', 200 + w * 10 + index, { metadata: { workflowId } }),
      );
      ids.workflow.set(workflowId, await save(events));
    }
    ids.failed = await save(Array.from({ length: 10 }, (_, index) => oldEvent('old.bad', 300 + index)));
    ids.retrying = await save(Array.from({ length: 5 }, (_, index) => oldEvent('old.slow', 400 + index)));
    ids.processing = await save(Array.from({ length: 3 }, (_, index) => oldEvent('old.held', 500 + index)));
    ids.pending = await save(
      Array.from({ length: 10 }, (_, index) => oldEvent('old.waiting', 600 + index)),
      publishOnly,
    );

    await waitForStatus(db.dataSource, [...ids.processed, ...[...ids.workflow.values()].flat()], 'processed');
    await waitForStatus(db.dataSource, ids.failed, 'failed');
    await waitFor(
      async () => {
        const [{ count }] = await db.dataSource.query<Array<{ count: number }>>(
          `SELECT count(*)::int AS count FROM event_handler_deliveries WHERE status = 'retrying'`,
        );
        return count === ids.retrying.length;
      },
      { timeoutMs: 15_000, message: 'the slow deliveries retrying' },
    );
    await waitForStatus(db.dataSource, ids.processing, 'processing');
  }, 60_000);

  afterAll(async () => {
    releaseHeld();
    await worker?.close();
    await publishOnly?.close();
    await db?.drop();
  });

  it('deletes exactly the finished events before the cutoff, in bounded batches, while publishes go on', async () => {
    let publishing = true;
    const published: string[] = [];
    const lateOld: string[] = [];
    let round = 0;
    // Publishers: new events (after the cutoff) that the worker processes, and old-timestamped ones
    // that stay pending, some appended to the workflows being pruned.
    const publishers = [
      (async () => {
        while (publishing) published.push((await worker.bus.publish(newEvent('new.tick'))).id);
      })(),
      (async () => {
        while (publishing) {
          round += 1;
          const workflowId = WORKFLOWS[round % WORKFLOWS.length];
          const metadata = round % 2 === 0 ? { workflowId } : undefined;
          lateOld.push((await publishOnly.bus.publish(oldEvent('old.late', 700 + round, { metadata }))).id);
        }
      })(),
    ];

    const batches: number[] = [];
    let publishedInsideBatch: StoredEvent | undefined;
    let deleted: number;
    try {
      deleted = await worker.bus.pruneEvents({
        before: CUTOFF,
        batchSize: BATCH_SIZE,
        archive: async (events) => {
          batches.push(events.length);
          // The batch's transaction is open and holds its row locks: a publish must still go through.
          publishedInsideBatch ??= await worker.bus.publish(newEvent('new.tick'));
        },
      });
    } finally {
      publishing = false;
      await Promise.all(publishers);
    }

    expect(publishedInsideBatch).toBeDefined();
    expect(published.length).toBeGreaterThan(0);
    expect(lateOld.length).toBeGreaterThan(0);
    expect(batches.every((size) => size > 0 && size <= BATCH_SIZE)).toBe(true);
    // 120 + 5 × 7 events were prunable from the start; each is examined in one batch of at most 25.
    expect(batches.length).toBeGreaterThanOrEqual(Math.ceil((120 + 35) / BATCH_SIZE));
    expect(batches.reduce((sum, size) => sum + size, 0)).toBe(deleted);

    const rows = await db.dataSource.query<StoreRow[]>(
      `SELECT id, status, timestamp, workflow_id, sequence_number FROM event_store`,
    );
    const present = new Set(rows.map((row) => row.id));
    const everKnown = [
      ...ids.processed,
      ...[...ids.workflow.values()].flat(),
      ...ids.failed,
      ...ids.retrying,
      ...ids.processing,
      ...ids.pending,
      ...published,
      ...lateOld,
      publishedInsideBatch!.id,
    ];
    const missing = everKnown.filter((id) => !present.has(id));
    expect(missing).toHaveLength(deleted);

    // Nothing unfinished, failed or new was lost.
    const kept = [
      ...ids.failed,
      ...ids.retrying,
      ...ids.processing,
      ...ids.pending,
      ...published,
      ...lateOld,
      publishedInsideBatch!.id,
    ];
    expect(kept.filter((id) => !present.has(id))).toEqual([]);
    // Every event prunable from the start is gone: the plain ones, and all but the newest of each workflow.
    const prunableFromStart = [
      ...ids.processed,
      ...[...ids.workflow.values()].flatMap((events) => events.slice(0, -1)),
    ];
    expect(prunableFromStart.filter((id) => present.has(id))).toEqual([]);
    // What else went is a workflow's last original event, once a late append made it no longer the newest.
    const lastOriginals = new Set([...ids.workflow.values()].map((events) => events.at(-1)!));
    expect(missing.filter((id) => !prunableFromStart.includes(id) && !lastOriginals.has(id))).toEqual([]);
    // Every workflow still has its newest event.
    for (const workflowId of WORKFLOWS) {
      expect(rows.some((row) => row.workflow_id === workflowId)).toBe(true);
    }
    // The statuses of the unfinished ones are untouched.
    const after = await statuses(db.dataSource, [...ids.pending, ...ids.processing, ...ids.retrying]);
    expect(new Set(after.values())).toEqual(new Set(['pending', 'processing']));
  }, 60_000);

  it('deletes failed events when asked, but never one whose delivery is still retrying', async () => {
    const deleted = await worker.bus.pruneEvents({ before: CUTOFF, status: ['processed', 'failed'] });
    // The failed ones, and any workflow's last original that a late append superseded meanwhile.
    expect(deleted).toBeGreaterThanOrEqual(ids.failed.length);
    const remaining = await statuses(db.dataSource, [
      ...ids.failed,
      ...ids.retrying,
      ...ids.processing,
      ...ids.pending,
    ]);
    expect(ids.failed.filter((id) => remaining.has(id))).toEqual([]);
    expect([...ids.retrying, ...ids.processing, ...ids.pending].filter((id) => !remaining.has(id))).toEqual([]);
    const records = await db.dataSource.query<Array<{ status: string }>>(`SELECT status FROM event_handler_deliveries`);
    expect(records.map((record) => record.status).sort()).toEqual(ids.retrying.map(() => 'retrying'));
  });

  it('rejects bad arguments before anything is deleted', async () => {
    await expect(worker.bus.pruneEvents({ before: CUTOFF, status: 'pending' as 'processed' })).rejects.toMatchObject({
      name: 'EventValidationError',
      field: 'status',
    });
    await expect(worker.bus.pruneEvents({ before: 'yesterday' as unknown as Date })).rejects.toMatchObject({
      field: 'before',
    });
  });
});
