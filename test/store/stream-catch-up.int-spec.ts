import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { LoggerService } from '@nestjs/common';
import type { DataSource, QueryRunner } from 'typeorm';
import { EventStoreRepository, EventValidationError, PersistentEventStore, type StoredEvent } from '@app/event-bus';
import { createTestDatabase, type TestDatabase, waitFor } from '../support/database.js';
import { newEvent } from './store-fixtures.js';

/**
 * Gap-safe reading stops below the oldest transaction still running, so a stream that ended at
 * its first short page could return fewer events than were committed before it started. It waits
 * for them instead (bounded), and a transaction open in another database does not hold it back.
 */
describe('PersistentEventStore: stream returns everything committed before it started', () => {
  let db: TestDatabase;
  let otherDb: TestDatabase | undefined;
  let store: PersistentEventStore;
  const warnings: string[] = [];
  const logger: LoggerService = {
    log: () => undefined,
    error: () => undefined,
    warn: (message: unknown) => void warnings.push(String(message)),
  };
  const held: QueryRunner[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('store-stream-catch-up');
    await db.dataSource.query('CREATE TABLE unrelated_work (id serial PRIMARY KEY, note text)');
    store = new PersistentEventStore(new EventStoreRepository(db.dataSource), { logger });
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    warnings.length = 0;
    for (const runner of held.splice(0)) {
      if (runner.isTransactionActive) await runner.rollbackTransaction();
      await runner.release();
    }
  });
  afterAll(async () => {
    await otherDb?.drop();
    await db.drop();
  });

  /** A transaction on its own connection that has written (so it has a transaction id) and stays open. */
  async function holdTransaction(dataSource: DataSource, write: (runner: QueryRunner) => Promise<unknown>) {
    const runner = dataSource.createQueryRunner();
    held.push(runner);
    await runner.startTransaction();
    await write(runner);
    return runner;
  }

  /** Saves each event in a transaction of its own, as separate publishes would. */
  async function saveEach(tenantId: string, count: number): Promise<StoredEvent[]> {
    const saved: StoredEvent[] = [];
    for (let i = 0; i < count; i++) saved.push(await store.save(newEvent({ tenantId, payload: { i } })));
    return saved;
  }

  /** Reads a stream to its end in the background; `settled()` says whether it has ended yet. */
  function inBackground(iterable: AsyncIterable<StoredEvent>) {
    let settled = false;
    const done = (async () => {
      const events: StoredEvent[] = [];
      for await (const event of iterable) events.push(event);
      return events;
    })().finally(() => (settled = true));
    done.catch(() => undefined); // Awaited by the test; this only keeps an early failure from going unhandled.
    return { done, settled: () => settled };
  }

  const ids = (events: StoredEvent[]): string[] => events.map((event) => event.id);

  it.each([
    ['an event of another tenant', 'commits', true],
    ['a row of an unrelated table', 'rolls back', false],
  ])(
    'waits while a transaction that wrote %s is open, and once it %s yields every event in order',
    async (_written, _ends, commit) => {
      const tenantId = randomUUID();
      const holder = await holdTransaction(db.dataSource, (runner) =>
        commit
          ? store.save(newEvent({ tenantId: randomUUID() }), { manager: runner.manager })
          : runner.query(`INSERT INTO unrelated_work (note) VALUES ('report')`),
      );
      const saved = await saveEach(tenantId, 10);

      // The hazard is real: one gap-safe page sees none of the ten yet.
      expect(await store.query({ tenantId, limit: 100 })).toEqual([]);

      const lookedForHidden = jest.spyOn(store.repository, 'hasCommitted');
      const stream = inBackground(store.stream({ tenantId, batchSize: 3 }));
      // It found committed events hidden behind the open transaction, looked again, and has not ended.
      await waitFor(() => lookedForHidden.mock.calls.length >= 3, { message: 'the stream to poll for hidden events' });
      await expect(lookedForHidden.mock.results[0].value).resolves.toBe(true);
      expect(stream.settled()).toBe(false);

      if (commit) await holder.commitTransaction();
      else await holder.rollbackTransaction();

      expect(ids(await stream.done)).toEqual(ids(saved));
      expect(warnings).toEqual([]);
    },
  );

  it('yields what is visible first, and past catchUpTimeoutMs stops with a warning, skipping nothing', async () => {
    const tenantId = randomUUID();
    const early = await saveEach(tenantId, 2);
    const holder = await holdTransaction(db.dataSource, (runner) =>
      runner.query(`INSERT INTO unrelated_work (note) VALUES ('long report')`),
    );
    const late = await saveEach(tenantId, 3);

    const partial = inBackground(store.stream({ tenantId, catchUpTimeoutMs: 300 }));
    expect(ids(await partial.done)).toEqual(ids(early));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`Event stream stopped after #${early[1].sequenceNumber}`);
    expect(warnings[0]).toContain(`committed up to #${late[2].sequenceNumber}`);
    expect(warnings[0]).toContain(`afterSequence ${early[1].sequenceNumber}`);

    await holder.rollbackTransaction();
    // Resumed from where it stopped, the stream gets the rest, in order.
    const rest = inBackground(store.stream({ tenantId, afterSequence: early[1].sequenceNumber }));
    expect(ids(await rest.done)).toEqual(ids(late));
  });

  it('ends at once when the events after the last visible one do not match the filter', async () => {
    const tenantId = randomUUID();
    const mine = await saveEach(tenantId, 2);
    await holdTransaction(db.dataSource, (runner) => runner.query(`INSERT INTO unrelated_work (note) VALUES ('x')`));
    await saveEach(randomUUID(), 2); // Hidden, but of another tenant: nothing to wait for.

    const stream = inBackground(store.stream({ tenantId, catchUpTimeoutMs: Number.POSITIVE_INFINITY }));
    expect(ids(await stream.done)).toEqual(ids(mine));
    expect(warnings).toEqual([]);
  });

  it('is not held back by a transaction open in another database of the server', async () => {
    otherDb = await createTestDatabase('store-stream-catch-up-other');
    const other = otherDb;
    await holdTransaction(other.dataSource, (runner) =>
      runner.query(`INSERT INTO event_store (id, event_type, tenant_id, payload, timestamp)
                    VALUES (gen_random_uuid(), 'other.database', gen_random_uuid(), '{}', now())`),
    );
    const tenantId = randomUUID();
    const saved = await saveEach(tenantId, 10);

    // The other database's transaction is older than these events: the cluster-wide horizon would hide every one.
    const [{ hidden }] = await db.dataSource.query<{ hidden: string }[]>(
      `SELECT count(*) AS hidden FROM event_store
       WHERE tenant_id = $1 AND transaction_id >= pg_snapshot_xmin(pg_current_snapshot())`,
      [tenantId],
    );
    expect(Number(hidden)).toBe(10);

    // Not allowed to wait at all, the stream still returns exactly what was saved; so does one page.
    expect(ids(await inBackground(store.stream({ tenantId, catchUpTimeoutMs: 0 })).done)).toEqual(ids(saved));
    expect(ids(await store.query({ tenantId, limit: 100 }))).toEqual(ids(saved));
    expect(warnings).toEqual([]);
  });

  it('rejects a catchUpTimeoutMs that is not a non-negative number when stream() is called', () => {
    for (const catchUpTimeoutMs of [-1, Number.NaN, '100', null]) {
      expect(() => store.stream({ catchUpTimeoutMs: catchUpTimeoutMs as number })).toThrow(EventValidationError);
    }
  });
});
