/**
 * `npm run bench:replay`: replaying a large store (1M events at full size, 200k default) to a
 * no-op handler — events/s and the process's peak RSS, which must stay flat however large the
 * store — then `stream()` alone, then a raw keyset read of the same table as the ceiling.
 * Replay runs first, in a fresh process, so its peak RSS is not inflated by what ran before.
 */
import { bySize } from './support/bench-config.js';
import { cpuSeconds, megabytes, perSecond } from './support/bench-stats.js';
import { fillEvents } from './support/event-table.js';
import { RssSampler } from './support/rss-sampler.js';
import { runBenchmark } from './support/run-benchmark.js';
import { explainAnalyze } from './support/sql-recorder.js';
import { createLibraryBus } from './measures/library-bus.js';
import { measureKeysetRead } from './measures/raw-postgres.js';

await runBenchmark('replay', async (context) => {
  const { env, results, size, log } = context;
  const rows = bySize(size, { default: 200_000, full: 1_000_000 });

  log(`filling ${rows} events`);
  await fillEvents(env.dataSource, rows, 10_000, (done) => log(`  ${done} rows`));
  let handled = 0;
  // Replay needs no worker and no relay: nothing is published.
  const { bus, store, sql } = await createLibraryBus(env, {
    queueName: 'library-replay',
    worker: false,
    relay: false,
    handler: () => {
      handled++;
    },
  });

  const rssBefore = process.memoryUsage.rss();
  const replay = await measure(async () => {
    const result = await bus.replayEvents(new Date(0));
    if (result.events !== rows || handled !== rows) {
      throw new Error(`replay delivered ${result.events} events, ${handled} handler calls; ${rows} are stored`);
    }
  });
  log(
    `replay: ${Math.round(perSecond(rows, replay.elapsedMs))} events/s, peak RSS ${megabytes(replay.peakRss).toFixed(0)} MB`,
  );

  const stream = await measure(async () => {
    let streamed = 0;
    for await (const _event of store.stream()) streamed++;
    if (streamed !== rows) throw new Error(`stream() gave ${streamed} events; ${rows} are stored`);
  });
  log(`stream: ${Math.round(perSecond(rows, stream.elapsedMs))} events/s`);
  const raw = await measureKeysetRead(context);

  // The plan of one page of the stream (a page from the middle of the table, as most pages are).
  const statements = await sql.during(async () => {
    for await (const _event of store.stream({ afterSequence: Math.floor(rows / 2), batchSize: 1000 })) break;
  });
  const page = statements.find((statement) => /ORDER BY sequence_number/i.test(statement.query));
  if (page) log(`plan of a stream page:\n${page.query}\n${await explainAnalyze(env.dataSource, page)}`);

  const what = `${rows} stored events, no-op handler`;
  results.record('replay_events_per_s', perSecond(rows, replay.elapsedMs), 'events/s', `replayEvents, ${what}`);
  results.record('replay_peak_rss_mb', megabytes(replay.peakRss), 'MB', 'peak RSS of the process during replay');
  results.record('replay_rss_before_mb', megabytes(rssBefore), 'MB', 'RSS before replay (process baseline)');
  results.record('replay_cpu_s_per_100k', (replay.cpuSeconds * 100_000) / rows, 'CPU s/100k events', 'this process');
  results.record(
    'stream_events_per_s',
    perSecond(rows, stream.elapsedMs),
    'events/s',
    `store.stream() alone, ${rows} events`,
  );
  results.record('stream_peak_rss_mb', megabytes(stream.peakRss), 'MB', 'peak RSS during stream()');
  results.record('raw_pg_keyset_read_rows_per_s', raw, 'rows/s', 'hand-written keyset pages of 1,000, same table');
  results.ratio('replay_vs_raw_read', perSecond(rows, replay.elapsedMs), raw, 'replay / raw keyset read');
  results.ratio('stream_vs_raw_read', perSecond(rows, stream.elapsedMs), raw, 'stream() / raw keyset read');
});

async function measure(
  action: () => Promise<void>,
): Promise<{ elapsedMs: number; peakRss: number; cpuSeconds: number }> {
  const sampler = new RssSampler();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  try {
    await action();
    return {
      elapsedMs: performance.now() - started,
      cpuSeconds: cpuSeconds(process.cpuUsage(cpuBefore)),
      peakRss: sampler.stop(),
    };
  } finally {
    sampler.stop();
  }
}
