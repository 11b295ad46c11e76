import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { LoggerService } from '@nestjs/common';
import type { QueryRunner } from 'typeorm';
import { EventStoreRepository, PersistentEventStore, type StoredEvent } from '@app/event-bus';
import { createTestDatabase, type TestDatabase, waitFor, waitForPagingReaders } from '../support/database.js';
import { GAP_SAFE_VISIBILITY } from '../../libs/event-bus/src/store/typeorm/schema/gap-safe-visibility.js';
import { newEvent, storeFor } from './store-fixtures.js';

/**
 * Sequence numbers are handed out at insert and become visible at commit. A reader paging by
 * position must not move past an event whose transaction commits after later-numbered ones, and
 * transaction-id order is not sequence order: a transaction that got its id early (an earlier
 * write) can take a higher sequence number than a younger one.
 */
describe('PersistentEventStore: gap-safe reading', () => {
  let db: TestDatabase;
  let store: PersistentEventStore;
  let slowWriter: QueryRunner | undefined;
  const held: QueryRunner[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('store-gap-safety');
    await db.dataSource.query('CREATE TABLE unrelated_work (id serial PRIMARY KEY, note text)');
    store = storeFor(db);
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    for (const runner of held.splice(0)) {
      if (runner.isTransactionActive) await runner.rollbackTransaction();
      await runner.release();
    }
  });
  afterAll(async () => {
    if (slowWriter?.isTransactionActive) await slowWriter.rollbackTransaction();
    await slowWriter?.release();
    await db.drop();
  });

  /** A transaction on a connection of its own that has written a row of another table, so it holds a transaction id. */
  async function openTransaction(): Promise<QueryRunner> {
    const runner = db.dataSource.createQueryRunner();
    held.push(runner);
    await runner.startTransaction();
    await runner.query(`INSERT INTO unrelated_work (note) VALUES ('earlier write')`);
    return runner;
  }

  const ids = (events: StoredEvent[]): string[] => events.map((event) => event.id);
  const collect = async (iterable: AsyncIterable<StoredEvent>): Promise<StoredEvent[]> => {
    const events: StoredEvent[] = [];
    for await (const event of iterable) events.push(event);
    return events;
  };

  it('a paging reader stops before an uncommitted event and gets it next once it commits', async () => {
    const first = await store.save(newEvent());
    await waitForPagingReaders(db.dataSource);

    // A second connection inserts an event and keeps its transaction open: it holds the lower sequence number.
    slowWriter = db.dataSource.createQueryRunner();
    await slowWriter.startTransaction();
    const late = await store.save(newEvent(), { manager: slowWriter.manager });

    // Later events commit while it is still open.
    const later = await store.saveAll([newEvent(), newEvent()]);
    expect(late.sequenceNumber).toBeGreaterThan(first.sequenceNumber);
    expect(later[0].sequenceNumber).toBeGreaterThan(late.sequenceNumber);

    // The hazard is real: a plain keyset read sees the later events and would skip the late one.
    const naive = await db.dataSource.query<{ id: string }[]>(
      'SELECT id FROM event_store WHERE sequence_number > $1 ORDER BY sequence_number',
      [first.sequenceNumber],
    );
    expect(naive.map((row) => row.id)).toEqual(ids(later));

    // Gap-safe readers do not pass it: nothing after `first` yet, whichever way they page.
    const position = first.sequenceNumber;
    expect(await store.query({ afterSequence: position })).toEqual([]);
    expect(await store.getEventsByTenant(first.tenantId, { afterSequence: position, limit: 10 })).toEqual([]);
    // A stream waits for committed events hidden this way (stream-catch-up.int-spec.ts); one not allowed to wait stops too.
    expect(await collect(store.stream({ afterSequence: position, catchUpTimeoutMs: 0 }))).toEqual([]);
    expect(ids(await store.query({ limit: 10 }))).toEqual([first.id]);
    // A plain read (no paging) still returns everything committed.
    expect(ids(await store.query())).toEqual([first.id, ...ids(later)]);

    await slowWriter.commitTransaction();

    // The reader resumes from where it stopped and gets the late event first, then the others.
    await waitForPagingReaders(db.dataSource);
    expect(ids(await store.query({ afterSequence: position, limit: 10 }))).toEqual([late.id, ...ids(later)]);
    expect(ids(await collect(store.stream({ afterSequence: position, batchSize: 1 })))).toEqual([
      late.id,
      ...ids(later),
    ]);
  });

  it('a stream never passes an event whose transaction got its id later but its sequence number earlier', async () => {
    const tenantId = randomUUID();
    const user = await openTransaction(); // T_user: transaction id A, from its earlier write.
    const other = db.dataSource.createQueryRunner(); // T_other: transaction id B > A.
    held.push(other);
    await other.startTransaction();
    const early = await store.save(newEvent({ tenantId }), { manager: other.manager }); // #N, id B
    const inverted = await store.save(newEvent({ tenantId }), { manager: user.manager }); // #N+1, id A
    await user.commitTransaction();
    // Committed before the stream starts but behind T_other: the stream waits for it, and is still reading when T_other commits.
    const behind = await store.save(newEvent({ tenantId })); // #N+2, id C > B
    expect([inverted.sequenceNumber, behind.sequenceNumber]).toEqual([
      early.sequenceNumber + 1,
      early.sequenceNumber + 2,
    ]);

    // The hazard is real: #N+1 is below the horizon (T_other), #N is not visible at all. A page by
    // sequence number returns #N+1, and a caller moving its cursor there would never get #N.
    expect(ids(await store.query({ tenantId, afterSequence: early.sequenceNumber - 1 }))).toEqual([inverted.id]);

    const lookedForHidden = jest.spyOn(store.repository, 'hasCommitted');
    const seen: StoredEvent[] = [];
    const done = (async () => {
      for await (const event of store.stream({ tenantId, batchSize: 1 })) seen.push(event);
    })();
    done.catch(() => undefined); // Awaited below; this only keeps an early failure from going unhandled.
    // It read #N+1 (final, below the horizon) and polls for #N+2, hidden behind T_other.
    await waitFor(() => seen.length === 1 && lookedForHidden.mock.calls.length >= 2, {
      message: 'the stream to read #N+1 and poll for #N+2',
    });
    expect(ids(seen)).toEqual([inverted.id]);

    await other.commitTransaction();
    await done;
    // #N comes after #N+1 (its transaction became safe to read later), and nothing is skipped.
    expect(ids(seen)).toEqual([inverted.id, early.id, behind.id]);
  });

  it('a page by sequence number stops before a committed event still above the horizon', async () => {
    const tenantId = randomUUID();
    const before = await store.save(newEvent({ tenantId }));
    await waitForPagingReaders(db.dataSource);
    const user = await openTransaction(); // transaction id A
    const holder = await openTransaction(); // transaction id O > A: the horizon once A commits
    const early = await store.save(newEvent({ tenantId })); // #N, id B > O, committed, above the horizon
    const inverted = await store.save(newEvent({ tenantId }), { manager: user.manager }); // #N+1, id A
    await user.commitTransaction();

    // A plain read sees both; #N+1 alone is below the horizon. A page holding only the rows below the
    // horizon would return #N+1 and, once the caller's cursor is there, never #N.
    expect(ids(await store.query({ tenantId }))).toEqual([before.id, early.id, inverted.id]);
    const [{ belowHorizon }] = await db.dataSource.query<{ belowHorizon: string[] }[]>(
      `SELECT array_agg(id::text ORDER BY sequence_number) AS "belowHorizon" FROM event_store
       WHERE tenant_id = $1 AND ${GAP_SAFE_VISIBILITY}`,
      [tenantId],
    );
    expect(belowHorizon).toEqual([before.id, inverted.id]);

    // So the page stops at #N, whatever way it pages.
    const position = before.sequenceNumber;
    expect(await store.query({ tenantId, afterSequence: position })).toEqual([]);
    expect(await store.getEventsByTenant(tenantId, { afterSequence: position, limit: 10 })).toEqual([]);
    expect(ids(await store.query({ tenantId, limit: 10 }))).toEqual([before.id]);

    // A stream not allowed to wait reads #N+1 and stops, naming a position that still has #N ahead of it.
    const warnings: string[] = [];
    const logger: LoggerService = {
      log: () => undefined,
      error: () => undefined,
      warn: (message: unknown) => void warnings.push(String(message)),
    };
    const waiting = new PersistentEventStore(new EventStoreRepository(db.dataSource), { logger });
    expect(ids(await collect(waiting.stream({ tenantId, afterSequence: position, catchUpTimeoutMs: 0 })))).toEqual([
      inverted.id,
    ]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`afterSequence ${early.sequenceNumber - 1} reads them`);
    expect(warnings[0]).toContain(`and again those this one yielded above #${early.sequenceNumber - 1}`);

    await holder.rollbackTransaction();
    await waitForPagingReaders(db.dataSource);
    expect(ids(await store.query({ tenantId, afterSequence: position, limit: 10 }))).toEqual([early.id, inverted.id]);
  });
});
