/**
 * `npm run bench:ordered`: an ordered handler (DESIGN.md 6.6) under the `publishAll` load: events/s
 * from the first publish until the handler has seen every event, and its lag per event (handler call
 * minus the time `publishAll` resolved for it), p50/p99. In the same run, as baselines: the same
 * load through a queue-delivered no-op handler (the library's default path), and a hand-written
 * keyset read of the same rows in commit-safe order (what the ordered reader cannot beat).
 */
import { benchEvents, chunks } from './support/bench-events.js';
import { bySize } from './support/bench-config.js';
import { perSecond, summarize } from './support/bench-stats.js';
import { waitForCount } from './support/bench-wait.js';
import { runBenchmark } from './support/run-benchmark.js';
import { createLibraryBus } from './measures/library-bus.js';

await runBenchmark('ordered', async (context) => {
  const { env, results, size, log } = context;
  const count = bySize(size, { default: 5_000, full: 50_000 });

  // The queue path: a no-op handler on every event.
  let queueHandled = 0;
  const queued = await createLibraryBus(env, { queueName: 'ordered-baseline', handler: () => void queueHandled++ });
  const queueEvents = benchEvents(count);
  const queueStarted = performance.now();
  for (const batch of chunks(queueEvents, 500)) await queued.bus.publishAll(batch);
  await waitForCount(() => queueHandled, count, 300_000, 'queue handler');
  const queueRate = perSecond(count, performance.now() - queueStarted);
  log(`queue handler: ${Math.round(queueRate)} events/s`);
  await queued.bus.close();

  // The ordered path: an ordered no-op handler from now on (the baseline's events are history).
  const publishedAt = new Map<string, number>();
  const lags: number[] = [];
  const { bus } = await createLibraryBus(env, {
    queueName: 'ordered',
    handler: (event) => {
      const at = publishedAt.get(event.id);
      if (at !== undefined) lags.push(performance.now() - at);
    },
    handlerOptions: { ordered: true },
  });
  const events = benchEvents(count);
  const started = performance.now();
  for (const batch of chunks(events, 500)) {
    await bus.publishAll(batch);
    const now = performance.now();
    for (const event of batch) publishedAt.set(event.id, now);
  }
  await waitForCount(() => lags.length, count, 300_000, 'ordered handler');
  const orderedRate = perSecond(count, performance.now() - started);
  const lag = summarize(lags);
  const [standing] = await bus.getOrderedHandlers();
  log(
    `ordered handler: ${Math.round(orderedRate)} events/s, lag p99 ${lag.p99.toFixed(1)} ms, lag now ${standing.lag}`,
  );

  // Hand-written: the same rows read in commit-safe order, 500 per page.
  const readStarted = performance.now();
  let read = 0;
  let after = ['0', 0] as [string, number];
  for (;;) {
    const rows = await env.dataSource.query<{ transaction_id: string; sequence_number: string }[]>(
      `SELECT id, event_type, tenant_id, payload, timestamp, workflow_id, metadata, version,
         transaction_id::text AS transaction_id, sequence_number
       FROM event_store WHERE (transaction_id, sequence_number) > ($1::xid8, $2::bigint)
       ORDER BY transaction_id, sequence_number LIMIT 500`,
      after,
    );
    if (rows.length === 0) break;
    read += rows.length;
    const last = rows[rows.length - 1];
    after = [last.transaction_id, Number(last.sequence_number)];
  }
  const readRate = perSecond(read, performance.now() - readStarted);

  results.record('ordered_events_per_s', orderedRate, 'events/s', `ordered no-op handler, publishAll of ${count}`);
  results.latency('ordered_lag', lag, 'ordered handler call minus publishAll resolved');
  results.record('ordered_queue_events_per_s', queueRate, 'events/s', `queue no-op handler, the same load`);
  results.ratio('ordered_vs_queue', orderedRate, queueRate, 'ordered / queue delivery, same run');
  results.record('ordered_raw_read_rows_per_s', readRate, 'rows/s', 'hand-written keyset read, commit-safe order');
  results.ratio('ordered_vs_raw_read', orderedRate, readRate, 'ordered handler / raw read of the same log');
});
