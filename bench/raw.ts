/**
 * `npm run bench:raw`: the speed of the parts alone — BullMQ and PostgreSQL on this machine —
 * which every other benchmark divides by.
 */
import { bySize } from './support/bench-config.js';
import { runBenchmark } from './support/run-benchmark.js';
import { measureBullmqThroughput } from './measures/raw-bullmq.js';
import { measureKeysetRead, measureMultiRowInsert } from './measures/raw-postgres.js';

await runBenchmark('raw', async (context) => {
  const { results, size } = context;
  const jobs = bySize(size, { default: 10_000, full: 100_000 });
  const rows = bySize(size, { default: 50_000, full: 200_000 });

  const bullmq = await measureBullmqThroughput(context, jobs);
  results.record(
    'raw_bullmq_jobs_per_s',
    bullmq.jobsPerSecond,
    'jobs/s',
    `addBulk (1,000) + no-op worker, ${jobs} jobs`,
  );
  results.record('raw_bullmq_cpu_s_per_1k', bullmq.cpuPer1000, 'CPU s/1k jobs', 'benchmark process');
  const insert = await measureMultiRowInsert(context, rows);
  results.record('raw_pg_insert_rows_per_s', insert, 'rows/s', `multi-row INSERT (1,000 per statement), ${rows} rows`);
  // As autovacuum would have by then: a first read after a bulk insert also writes hint bits.
  await context.env.dataSource.query('VACUUM ANALYZE event_store');
  const read = await measureKeysetRead(context);
  results.record('raw_pg_keyset_read_rows_per_s', read, 'rows/s', `keyset pages of 1,000 over ${rows} rows`);
});
