/**
 * PostgreSQL alone on the `event_store` table the migrations built (all its indexes): the
 * fastest a store can write (multi-row INSERT, 1,000 rows per statement) and read (keyset
 * pages by sequence number) — the ceilings of `publishAll` and of replay.
 */
import type { BenchContext } from '../support/run-benchmark.js';
import { benchEvents, chunks } from '../support/bench-events.js';
import { perSecond } from '../support/bench-stats.js';
import { insertEvents, truncateEvents } from '../support/event-table.js';

/** Rows/s of sequential 1,000-row INSERTs of `rows` rows into an emptied table. */
export async function measureMultiRowInsert(context: BenchContext, rows: number): Promise<number> {
  const { dataSource } = context.env;
  await truncateEvents(dataSource);
  const batches = chunks(benchEvents(rows), 1000);
  await insertEvents(dataSource, batches[0]); // warm-up: plans and connections
  await truncateEvents(dataSource);
  const started = performance.now();
  for (const batch of batches) await insertEvents(dataSource, batch);
  const rowsPerSecond = perSecond(rows, performance.now() - started);
  context.log(`raw multi-row INSERT: ${Math.round(rowsPerSecond)} rows/s`);
  return rowsPerSecond;
}

/**
 * Rows/s of reading the whole table in keyset pages of `pageSize` (`sequence_number > $last
 * ORDER BY sequence_number LIMIT n`, every column, JSON parsed by the driver), one page at a time.
 */
export async function measureKeysetRead(context: BenchContext, pageSize = 1000): Promise<number> {
  const { dataSource } = context.env;
  const started = performance.now();
  let last = 0;
  let rows = 0;
  for (;;) {
    const page = await dataSource.query<{ sequence_number: string }[]>(
      `SELECT * FROM event_store WHERE sequence_number > $1 ORDER BY sequence_number LIMIT $2`,
      [last, pageSize],
    );
    rows += page.length;
    if (page.length < pageSize) break;
    last = Number(page[page.length - 1].sequence_number);
  }
  const rowsPerSecond = perSecond(rows, performance.now() - started);
  context.log(`raw keyset read: ${Math.round(rowsPerSecond)} rows/s (${rows} rows)`);
  return rowsPerSecond;
}
