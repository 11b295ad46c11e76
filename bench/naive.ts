/**
 * `npm run bench:naive`: the hand-written peer (INSERT + add per event, worker UPDATEs the
 * status), one at a time and with 100 publishes in flight, against raw BullMQ in the same run.
 */
import { bySize } from './support/bench-config.js';
import { runBenchmark } from './support/run-benchmark.js';
import { recordEndToEnd } from './measures/end-to-end.js';
import { NaivePeer } from './measures/naive-peer.js';
import { measureBullmqThroughput } from './measures/raw-bullmq.js';

await runBenchmark('naive', async (context) => {
  const { results, size } = context;
  const oneAtATime = bySize(size, { default: 1_000, full: 10_000 });
  const concurrent = bySize(size, { default: 5_000, full: 50_000 });

  const raw = await measureBullmqThroughput(context, concurrent);
  results.record('raw_bullmq_jobs_per_s', raw.jobsPerSecond, 'jobs/s', 'addBulk (1,000) + no-op worker');
  const naive = await NaivePeer.create(context);
  const serial = await naive.measure(oneAtATime, 1);
  recordEndToEnd(results, 'naive1', serial, `naive peer, one publish at a time, ${oneAtATime} events`);
  const parallel = await naive.measure(concurrent, 100);
  recordEndToEnd(results, 'naive100', parallel, `naive peer, 100 publishes in flight, ${concurrent} events`);
  results.ratio('naive1_vs_raw_bullmq', serial.eventsPerSecond, raw.jobsPerSecond, 'naive one at a time / raw BullMQ');
  results.ratio(
    'naive100_vs_raw_bullmq',
    parallel.eventsPerSecond,
    raw.jobsPerSecond,
    'naive 100 in flight / raw BullMQ',
  );
});
