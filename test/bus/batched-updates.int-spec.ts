import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MARK_PROCESSED_SQL } from '../../libs/event-bus/src/store/typeorm/schema/mark-processed.sql.js';
import { MARK_PROCESSING_SQL } from '../../libs/event-bus/src/store/typeorm/schema/mark-processing.sql.js';
import { MARK_ENQUEUED_SQL } from '../../libs/event-bus/src/store/typeorm/schema/record-job-ids.sql.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { newEvent, storeFor } from '../store/store-fixtures.js';

/**
 * The publisher records job ids and workers write statuses in batches, at the same time and often
 * for the same events. Statements that lock the same rows in different orders deadlock; PostgreSQL
 * then fails one of them after `deadlock_timeout`, which stalled delivery for a second and failed
 * jobs. Every batched UPDATE locks its rows in id order, so any mix of them runs side by side.
 */
describe('batched event_store updates running at the same time', () => {
  let db: TestDatabase;
  let ids: string[];

  beforeAll(async () => {
    db = await createTestDatabase('batched-updates');
    const stored = await storeFor(db).saveAll(Array.from({ length: 200 }, () => newEvent()));
    ids = stored.map((event) => event.id);
  });

  afterAll(() => db?.drop());

  it('never deadlock, whatever order each batch lists its events in', async () => {
    const shuffled = (): string[] => [...ids].sort(() => Math.random() - 0.5);
    for (let round = 0; round < 25; round++) {
      await db.dataSource.query(`UPDATE event_store SET status = 'pending', job_id = NULL`);
      // Each statement takes event ids and their job ids (the event ids), in an order of its own.
      const idsAndJobIds = (): [string[], string[]] => {
        const order = shuffled();
        return [order, order];
      };
      const statements: Array<[string, unknown[]]> = [
        [MARK_ENQUEUED_SQL, idsAndJobIds()],
        [MARK_PROCESSING_SQL, idsAndJobIds()],
        [MARK_PROCESSED_SQL, idsAndJobIds()],
        [MARK_ENQUEUED_SQL, idsAndJobIds()],
        [MARK_PROCESSED_SQL, idsAndJobIds()],
      ];
      await Promise.all(
        statements.map(([sql, params]) =>
          db.dataSource.transaction(async (manager) => {
            // A deadlock then fails the test at once instead of after a second.
            await manager.query(`SET LOCAL deadlock_timeout = '50ms'`);
            await manager.query(sql, params);
          }),
        ),
      );
    }
    const [row] = await db.dataSource.query<{ processed: string; recorded: string }[]>(
      `SELECT count(*) FILTER (WHERE status = 'processed') AS processed,
              count(*) FILTER (WHERE job_id = id::text) AS recorded
       FROM event_store`,
    );
    expect(row).toEqual({ processed: String(ids.length), recorded: String(ids.length) });
  });
});
