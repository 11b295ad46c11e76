import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { PersistentEventStore, StoredEvent } from '@app/event-bus';
import { EntityManager } from 'typeorm';
import { buildStreamPage } from '../../libs/event-bus/src/store/typeorm/schema/event-query.sql.js';
import { GAP_SAFE_HORIZON } from '../../libs/event-bus/src/store/typeorm/schema/gap-safe-visibility.js';
import { createTestDatabase, type TestDatabase, waitForPagingReaders } from '../support/database.js';
import { storeFor, TENANT_A, TENANT_B } from './store-fixtures.js';

const TOTAL = 100_000;
const TEXT_LENGTH = 400;

/**
 * The heap after a full collection, when the collector can be reached: `--expose-gc` may be set
 * at run time, and a fresh context then carries `gc`. Without it, heapUsed still includes garbage.
 */
function heapCollector(): (() => number) | undefined {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as (() => void) | undefined;
    if (typeof gc !== 'function') return undefined;
    return () => {
      gc();
      return process.memoryUsage().heapUsed;
    };
  } catch {
    return undefined;
  }
}

describe('PersistentEventStore: stream', () => {
  let db: TestDatabase;
  let store: PersistentEventStore;

  beforeAll(async () => {
    db = await createTestDatabase('store-stream');
    store = storeFor(db);
    // One INSERT … SELECT: 100k events in a couple of seconds, every other one of tenant B.
    await db.dataSource.query(
      `INSERT INTO event_store (id, event_type, tenant_id, payload, timestamp, status, workflow_id, metadata)
       SELECT gen_random_uuid(), 'bulk.loaded', CASE WHEN i % 2 = 0 THEN $1::uuid ELSE $2::uuid END,
              jsonb_build_object('index', i, 'text', repeat('x', $3)), '2025-01-01T00:00:00Z'::timestamptz + i * interval '1 second',
              'processed', 'wf-' || (i % 10), jsonb_build_object('workflowId', 'wf-' || (i % 10))
       FROM generate_series(1, $4::int) AS i`,
      [TENANT_A, TENANT_B, TEXT_LENGTH, TOTAL],
    );
    await waitForPagingReaders(db.dataSource, 30_000);
  }, 60_000);
  afterAll(() => db.drop());

  // One INSERT, one transaction: its events come in sequence order.
  it(`streams ${TOTAL} events in sequence order with memory that stays flat`, async () => {
    const heapAfterGc = heapCollector();
    const measure = heapAfterGc ?? (() => process.memoryUsage().heapUsed);
    const baseline = measure();
    let peak = baseline;
    let count = 0;
    let last = 0;
    let ordered = true;
    // Lower bound of what holding every event at once would take: its JSON text.
    let wholeSetBytes = 0;

    for await (const event of store.stream({ batchSize: 1000 })) {
      ordered &&= event.sequenceNumber > last;
      last = event.sequenceNumber;
      count++;
      wholeSetBytes += JSON.stringify(event).length;
      if (count % 5000 === 0) peak = Math.max(peak, measure());
    }

    expect(count).toBe(TOTAL);
    expect(ordered).toBe(true);
    expect(wholeSetBytes).toBeGreaterThan(TOTAL * TEXT_LENGTH);
    const growth = peak - baseline;
    // Retained memory stays around one page (1,000 events ≈ 0.5 MB of JSON). A reader that held
    // everything would have grown by at least the whole set (> 40 MB of text alone).
    const bound = heapAfterGc ? wholeSetBytes / 10 : wholeSetBytes / 2;
    expect(growth).toBeLessThan(bound);
  }, 120_000);

  it('reads the last position, then one page per query, each of batchSize rows, and one check after the short page', async () => {
    const query = jest.spyOn(EntityManager.prototype, 'query');
    try {
      let count = 0;
      for await (const _event of store.stream({ tenantId: TENANT_A, batchSize: 7_000 })) count++;
      expect(count).toBe(TOTAL / 2);
      // The highest committed position (what "complete" means), then 50,000 = 7 full pages of 7,000
      // and a short one of 1,000, then one look for committed events still hidden: none.
      expect(query).toHaveBeenCalledTimes(10);
      const [[target], ...rest] = query.mock.calls;
      const [check] = rest.pop()!;
      expect(target).toBe('SELECT max(sequence_number) AS max FROM event_store');
      for (const [sql, params] of rest) {
        expect(sql).toMatch(/ORDER BY transaction_id, sequence_number LIMIT \$\d+\) AS page ON true$/);
        expect(sql).toContain(GAP_SAFE_HORIZON);
        expect(params).toContain(7_000);
      }
      expect(check).toMatch(/^SELECT EXISTS \(SELECT FROM event_store WHERE tenant_id = /);
    } finally {
      query.mockRestore();
    }
  });

  it('pages through the (transaction_id, sequence_number) index without sorting', async () => {
    await db.dataSource.query('ANALYZE event_store');
    const [middle] = await db.dataSource.query<{ transaction_id: string; sequence_number: string }[]>(
      'SELECT transaction_id, sequence_number FROM event_store ORDER BY sequence_number OFFSET $1 LIMIT 1',
      [TOTAL / 2],
    );
    const position = { transactionId: BigInt(middle.transaction_id), sequenceNumber: Number(middle.sequence_number) };
    for (const after of [undefined, position]) {
      const { sql, params } = buildStreamPage({}, after, 1000);
      const plan = (await db.dataSource.query<{ 'QUERY PLAN': string }[]>(`EXPLAIN ${sql}`, params))
        .map((row) => row['QUERY PLAN'])
        .join('\n');
      expect(plan).toContain('Index Scan using event_store_transaction_sequence_idx');
      expect(plan).not.toMatch(/Sort Key: .*sequence_number/);
    }
  });

  it('applies the filter, afterSequence and limit across pages', async () => {
    const collect = async (iterable: AsyncIterable<StoredEvent>): Promise<StoredEvent[]> => {
      const events: StoredEvent[] = [];
      for await (const event of iterable) events.push(event);
      return events;
    };
    const [first] = await store.query({ limit: 1 });
    const page = await collect(
      store.stream({
        tenantId: TENANT_B,
        workflowId: 'wf-3',
        afterSequence: first.sequenceNumber,
        limit: 25,
        batchSize: 10,
      }),
    );
    expect(page).toHaveLength(25);
    expect(page.every((event) => event.tenantId === TENANT_B && event.metadata?.workflowId === 'wf-3')).toBe(true);
    expect(page.map((event) => event.sequenceNumber)).toEqual(
      [...page.map((event) => event.sequenceNumber)].sort((a, b) => a - b),
    );
    expect(page[0].sequenceNumber).toBeGreaterThan(first.sequenceNumber);
    expect(
      await store.query({ tenantId: TENANT_B, workflowId: 'wf-3', afterSequence: first.sequenceNumber, limit: 25 }),
    ).toEqual(page);

    const timeWindow = await collect(
      store.stream({ from: new Date('2025-01-01T00:00:10Z'), to: new Date('2025-01-01T00:00:20Z'), batchSize: 3 }),
    );
    expect(timeWindow.map((event) => (event.payload as { index: number }).index)).toEqual([
      10, 11, 12, 13, 14, 15, 16, 17, 18, 19,
    ]);
  });

  it('ends at once when nothing matches', async () => {
    const events: StoredEvent[] = [];
    for await (const event of store.stream({ type: 'nothing.matches' })) events.push(event);
    expect(events).toEqual([]);
  });
});
