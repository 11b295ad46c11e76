import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TypeOrmUnfinishedEvents } from '../../libs/event-bus/src/store/typeorm/typeorm-unfinished-events.js';
import { UnfinishedEventWalk } from '../../libs/event-bus/src/transport/bullmq/recovery/unfinished-event-walk.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { newEvent, storeFor } from '../store/store-fixtures.js';

/**
 * The periodic look at unfinished events walks a few pages per check and keeps old unfinished events
 * by id once it has moved past them. Whatever its position, every unfinished event must reach the
 * recovery within a bounded number of checks, and no finished one.
 */
describe('the walk over unfinished events', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('unfinished-event-walk');
  });

  afterAll(() => db?.drop());

  /** Stores `count` events with this status; resolves to their ids in sequence order. */
  const store = async (count: number, status: string): Promise<string[]> => {
    const stored = await storeFor(db).saveAll(Array.from({ length: count }, () => newEvent()));
    const ids = stored.map((event) => event.id);
    await db.dataSource.query(`UPDATE event_store SET status = $2 WHERE id = ANY($1::uuid[])`, [ids, status]);
    return ids;
  };

  it('hands every unfinished event to the recovery within a few checks, also long after it passed them', async () => {
    const [old] = await store(1, 'processing');
    await store(5, 'processed');
    const [waiting] = await store(1, 'pending');
    const backlog = await store(5, 'pending');
    const finished = new Set(await store(3, 'processed'));
    const unfinished = [old, waiting, ...backlog];

    // Two rows a page, one page a check: a pass over the backlog takes several checks.
    const walk = new UnfinishedEventWalk(new TypeOrmUnfinishedEvents(db.dataSource), {
      batchSize: 2,
      staleAfterMs: 0,
      pagesPerCheck: 1,
    });
    const seenAt = new Map<string, number[]>();
    const window = 5;
    for (let check = 0; check < 30; check++) {
      await walk.step(
        async (rows) => {
          for (const row of rows) seenAt.set(row.id, [...(seenAt.get(row.id) ?? []), check]);
        },
        () => false,
      );
      // Events keep coming and finishing, so the walk has new ground to cover.
      for (const id of await store(2, 'processed')) finished.add(id);
    }

    expect([...seenAt.keys()].filter((id) => finished.has(id))).toEqual([]);
    for (const id of unfinished) {
      const checks = seenAt.get(id) ?? [];
      const gaps = [checks[0], ...checks.slice(1).map((check, index) => check - checks[index]), 29 - checks.at(-1)!];
      expect({ id, longestGap: Math.max(...gaps) <= window }).toEqual({ id, longestGap: true });
    }
  });

  it('stops handing over an event once it finished', async () => {
    const [event] = await store(1, 'processing');
    const walk = new UnfinishedEventWalk(new TypeOrmUnfinishedEvents(db.dataSource), {
      batchSize: 50,
      staleAfterMs: 0,
    });
    const seen: string[] = [];
    const step = (): Promise<void> =>
      walk.step(
        async (rows) => void seen.push(...rows.map((row) => row.id)),
        () => false,
      );
    for (let check = 0; check < 4; check++) await step();
    expect(seen).toContain(event);

    await db.dataSource.query(`UPDATE event_store SET status = 'processed' WHERE id = $1`, [event]);
    seen.length = 0;
    for (let check = 0; check < 4; check++) await step();
    expect(seen).not.toContain(event);
  });
});
