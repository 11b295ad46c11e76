import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import {
  ConcurrentAppendError,
  EventConcurrencyError,
  EventStoreRepository,
  PersistentEventStore,
  type StoredEvent,
} from '@app/event-bus';
import { createTestDatabase, eventBusDataSource, type TestDatabase } from '../support/database.js';
import { clearEvents, newEvent, storeFor, TENANT_A, TENANT_B } from './store-fixtures.js';

/** Writers that really race: each on a DataSource (a connection pool) of its own. */
const WRITERS = 8;
const ROUNDS = 4;

describe('workflow versions in PostgreSQL (migration 1764300004000)', () => {
  let db: TestDatabase;
  let sources: DataSource[] = [];
  let stores: PersistentEventStore[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('store-versions');
    sources = Array.from({ length: WRITERS }, () => eventBusDataSource(db.url, 2));
    await Promise.all(sources.map((source) => source.initialize()));
    stores = sources.map((source) => new PersistentEventStore(new EventStoreRepository(source)));
  });
  afterAll(async () => {
    await Promise.all(sources.filter((source) => source.isInitialized).map((source) => source.destroy()));
    await db?.drop();
  });
  beforeEach(() => clearEvents(db));

  const inWorkflow = (workflowId: string, tenantId = TENANT_A) => newEvent({ tenantId, metadata: { workflowId } });

  /** The stream's rows, in sequence order. */
  const stream = (workflowId: string) =>
    db.dataSource.query<Array<{ version: string; sequence_number: string }>>(
      `SELECT version, sequence_number FROM event_store WHERE workflow_id = $1 AND tenant_id = $2 ORDER BY sequence_number`,
      [workflowId, TENANT_A],
    );
  const expectGapless = async (workflowId: string, count: number): Promise<void> => {
    const rows = await stream(workflowId);
    // Gapless 1..N, and in sequence order: version order is sequence order within a stream.
    expect(rows.map((row) => Number(row.version))).toEqual(Array.from({ length: count }, (_, index) => index + 1));
  };

  it('numbers existing rows per (tenant, workflow) in sequence order, and down removes the column and index', async () => {
    // Back to before the versions migration: the migrations after it first.
    for (;;) {
      const [last] = await db.dataSource.query<Array<{ name: string }>>(
        `SELECT name FROM migrations ORDER BY id DESC LIMIT 1`,
      );
      await db.dataSource.undoLastMigration({ transaction: 'all' });
      if (last.name === 'AddEventVersions1764300004000') break;
    }
    try {
      await db.dataSource.query(
        `INSERT INTO event_store (id, event_type, tenant_id, payload, timestamp, status, workflow_id)
         SELECT gen_random_uuid(), 'a.b', CASE WHEN i % 2 = 0 THEN $1::uuid ELSE $2::uuid END, 'null', now(), 'processed',
                CASE WHEN i % 3 = 0 THEN NULL ELSE 'wf-' || (i % 3) END
         FROM generate_series(1, 30) AS i`,
        [TENANT_A, TENANT_B],
      );
      const [{ column }] = await db.dataSource.query<Array<{ column: string | null }>>(
        `SELECT (SELECT column_name FROM information_schema.columns WHERE table_name = 'event_store' AND column_name = 'version') AS column`,
      );
      expect(column).toBeNull();
    } finally {
      await db.dataSource.runMigrations({ transaction: 'all' });
    }
    const rows = await db.dataSource.query<
      Array<{ tenant_id: string; workflow_id: string | null; version: string | null }>
    >(`SELECT tenant_id, workflow_id, version FROM event_store ORDER BY sequence_number`);
    const seen = new Map<string, number>();
    for (const row of rows) {
      if (row.workflow_id === null) {
        expect(row.version).toBeNull();
        continue;
      }
      const key = `${row.tenant_id}/${row.workflow_id}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
      expect(Number(row.version)).toBe(seen.get(key));
    }
    expect(seen.size).toBe(4);
    // New appends continue each backfilled stream.
    const next = await storeFor(db).save(inWorkflow('wf-1'));
    expect(next.version).toBe(seen.get(`${TENANT_A}/wf-1`)! + 1);
    await expect(
      db.dataSource.query(
        `INSERT INTO event_store (id, event_type, tenant_id, payload, timestamp, workflow_id, version)
         VALUES (gen_random_uuid(), 'a.b', $1, 'null', now(), 'wf-1', 1)`,
        [TENANT_A],
      ),
    ).rejects.toThrow(/event_store_workflow_version_idx/);
  });

  it('the max-version lookup and a stream read in version order use the unique index', async () => {
    await db.dataSource.query(
      `INSERT INTO event_store (id, event_type, tenant_id, payload, timestamp, status, workflow_id, version)
       SELECT gen_random_uuid(), 'a.b', $1, 'null', now(), 'processed', 'wf-' || (i % 2000), i / 2000 + 1
       FROM generate_series(0, 39999) AS i`,
      [TENANT_A],
    );
    await db.dataSource.query('ANALYZE event_store');
    const plan = async (sql: string): Promise<string> =>
      (await db.dataSource.query<Array<{ 'QUERY PLAN': string }>>(`EXPLAIN ${sql}`, [TENANT_A, 'wf-7']))
        .map((row) => row['QUERY PLAN'])
        .join('\n');
    expect(
      await plan(`SELECT max(version) FROM event_store WHERE tenant_id = $1::uuid AND workflow_id = $2`),
    ).toContain('event_store_workflow_version_idx');
    expect(
      await plan(`SELECT id FROM event_store WHERE tenant_id = $1::uuid AND workflow_id = $2 ORDER BY version`),
    ).toContain('event_store_workflow_version_idx');
  }, 30_000);

  it(`${WRITERS} writers racing on one workflow all succeed, with gapless versions (single events and batches)`, async () => {
    let expected = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const results = await Promise.all(
        stores.map((store, writer) =>
          writer % 2 === 0
            ? store.save(inWorkflow('wf-race')).then((event) => [event])
            : store.saveAll([inWorkflow('wf-race'), newEvent(), inWorkflow('wf-race')]),
        ),
      );
      expected += results.flat().filter((event) => event.version !== null).length;
      // Each writer's own events are consecutive and in its input order.
      for (const events of results) {
        const versions = events.flatMap((event) => (event.version === null ? [] : [event.version]));
        versions.forEach((version, index) => index > 0 && expect(version).toBe(versions[index - 1] + 1));
      }
    }
    expect(expected).toBe(ROUNDS * (WRITERS / 2) * 3);
    await expectGapless('wf-race', expected);
  });

  it('writers racing inside their own transactions (READ COMMITTED) all succeed: a lost race retries in a savepoint', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      await Promise.all(
        stores.map((store, writer) =>
          sources[writer].transaction(async (manager) => {
            await manager.query(`SELECT 1`); // The caller's own work before the publish.
            const first = await store.save(inWorkflow('wf-tx'), { manager });
            const [second] = await store.saveAll([inWorkflow('wf-tx')], { manager });
            expect(second.version).toBe(first.version! + 1);
          }),
        ),
      );
    }
    await expectGapless('wf-tx', ROUNDS * WRITERS * 2);
  });

  it.each(['REPEATABLE READ', 'SERIALIZABLE'] as const)(
    'a lost race inside a %s transaction is a ConcurrentAppendError, and the transaction stays usable',
    async (isolation) => {
      const [mine, theirs] = stores;
      const workflowId = `wf-${isolation.replace(' ', '-').toLowerCase()}`;
      await sources[0].transaction(isolation, async (manager) => {
        await manager.query(`SELECT count(*) FROM event_store`); // Takes the snapshot.
        await theirs.save(inWorkflow(workflowId));
        const error = await mine.save(inWorkflow(workflowId), { manager }).catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(ConcurrentAppendError);
        expect(error).toMatchObject({ workflowId, tenantId: TENANT_A });
        expect((error as Error).message).toMatch(new RegExp(`${isolation.toLowerCase()}.*roll the transaction back`));
        // Only the append's savepoint was rolled back.
        const stored: StoredEvent = await mine.save(newEvent(), { manager });
        expect(stored.version).toBeNull();
      });
      await expectGapless(workflowId, 1);
    },
  );

  it('with expectedVersion inside a REPEATABLE READ transaction the loser still learns the committed version', async () => {
    const [mine, theirs] = stores;
    await sources[0].transaction('REPEATABLE READ', async (manager) => {
      await manager.query(`SELECT count(*) FROM event_store`); // Takes the snapshot: the stream is at 0 in it.
      await theirs.save(inWorkflow('wf-rr-expected'), { expectedVersion: 0 });
      const error = await mine
        .save(inWorkflow('wf-rr-expected'), { manager, expectedVersion: 0 })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(EventConcurrencyError);
      expect(error).toMatchObject({ workflowId: 'wf-rr-expected', expectedVersion: 0, actualVersion: 1 });
    });
    await expectGapless('wf-rr-expected', 1);
  });
});
