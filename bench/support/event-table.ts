/**
 * Hand-written SQL on the `event_store` table for the baselines, the naive peer and the
 * bookkeeping of every benchmark (counting statuses, filling large tables fast).
 */
import type { DataSource, EntityManager } from 'typeorm';
import type { BenchEvent } from './bench-events.js';
import { BENCH_EVENT_TYPE, BENCH_TENANTS } from './bench-events.js';
import { waitUntil } from './bench-wait.js';

const COLUMNS = ['id', 'event_type', 'tenant_id', 'payload', 'timestamp', 'workflow_id', 'metadata', 'status'];

function rowValues(event: BenchEvent, status: string): unknown[] {
  return [
    event.id,
    event.type,
    event.tenantId,
    JSON.stringify(event.payload),
    event.timestamp,
    event.metadata.workflowId,
    JSON.stringify(event.metadata),
    status,
  ];
}

/** One INSERT of one row, as a hand-written publish would do it. */
export async function insertEvent(db: DataSource | EntityManager, event: BenchEvent): Promise<void> {
  await db.query(
    `INSERT INTO event_store (${COLUMNS.join(', ')}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    rowValues(event, 'pending'),
  );
}

/** One multi-row INSERT (keep batches ≤ 8,000 rows: PostgreSQL takes at most 65,535 parameters). */
export async function insertEvents(db: DataSource | EntityManager, events: readonly BenchEvent[]): Promise<void> {
  const params: unknown[] = [];
  const tuples = events.map((event) => {
    const values = rowValues(event, 'pending');
    const placeholders = values.map((_, column) => `$${params.length + column + 1}`);
    params.push(...values);
    return `(${placeholders.join(', ')})`;
  });
  await db.query(`INSERT INTO event_store (${COLUMNS.join(', ')}) VALUES ${tuples.join(', ')}`, params);
}

export async function countEvents(db: DataSource, where = 'TRUE'): Promise<number> {
  const [{ count }] = await db.query<[{ count: number }]>(
    `SELECT count(*)::int AS count FROM event_store WHERE ${where}`,
  );
  return count;
}

/**
 * Waits until the table holds `expected` events and none of them is anything but `processed`:
 * the end of an end-to-end measurement. Polls every few milliseconds, which bounds the error.
 */
export async function waitAllProcessed(db: DataSource, expected: number, timeoutMs: number): Promise<void> {
  await waitUntil(async () => (await countEvents(db, `status = 'processed'`)) >= expected, {
    timeoutMs,
    intervalMs: 10,
    message: async () => `${await countEvents(db, `status = 'processed'`)} of ${expected} events processed`,
  });
}

export async function truncateEvents(db: DataSource): Promise<void> {
  // CASCADE: later migrations add tables that reference events (per-handler delivery records).
  await db.query('TRUNCATE event_store CASCADE');
}

/**
 * Fills the table with `rows` stored, already delivered events (status `processed`, job ids set)
 * in statements of 100k rows, all in PostgreSQL (`generate_series`), then VACUUM ANALYZE so the
 * planner and the visibility map look like those of a long-lived table. Event `i` belongs to
 * workflow `wf-fill-(i mod workflows)`, so a workflow's events are spread over the whole table.
 */
export async function fillEvents(
  db: DataSource,
  rows: number,
  workflows: number,
  onProgress?: (done: number) => void,
): Promise<void> {
  const step = 100_000;
  for (let start = 0; start < rows; start += step) {
    const end = Math.min(rows, start + step) - 1;
    await db.query(
      `INSERT INTO event_store (id, event_type, tenant_id, payload, timestamp, job_id, workflow_id, metadata, status)
       SELECT id, $3, ($4::uuid[])[1 + i % $6], payload, now() - make_interval(secs => $7 - i), id::text,
              'wf-fill-' || (i % $5), jsonb_build_object('workflowId', 'wf-fill-' || (i % $5)), 'processed'
       FROM (
         SELECT i, gen_random_uuid() AS id,
                jsonb_build_object('workflowId', 'wf-fill-' || (i % $5), 'nodeId', 'node-' || (i % 10),
                  'attempt', 1, 'output', jsonb_build_object('status', 'ok', 'items', i % 7, 'durationMs', 12,
                  'message', 'node finished without errors')) AS payload
         FROM generate_series($1::int, $2::int) AS i
       ) AS generated`,
      [start, end, BENCH_EVENT_TYPE, BENCH_TENANTS, workflows, BENCH_TENANTS.length, rows],
    );
    onProgress?.(end + 1);
  }
  await db.query('VACUUM ANALYZE event_store');
}
