/**
 * `npm run bench:latency`: publish → handler start under an open-loop load of 500 and 2,000
 * events/s (each event due at its scheduled time, whatever the ones before did), next to raw
 * BullMQ add → process at the same rates in the same run. Also the time `publish` takes to
 * resolve, which is what the publishing request waits for.
 */
import { bySize } from './support/bench-config.js';
import { benchEvents } from './support/bench-events.js';
import { summarize } from './support/bench-stats.js';
import { waitForCount } from './support/bench-wait.js';
import { LatencyRecorder } from './support/latency-recorder.js';
import { runOpenLoop } from './support/load-generators.js';
import { runBenchmark } from './support/run-benchmark.js';
import { createLibraryBus } from './measures/library-bus.js';
import { measureBullmqLatency } from './measures/raw-bullmq.js';

const RATES = [500, 2000];

await runBenchmark('latency', async (context) => {
  const { env, results, size, log } = context;
  const seconds = bySize(size, { default: 5, full: 20 });
  let recorder = new LatencyRecorder(0);
  const { bus } = await createLibraryBus(env, {
    queueName: 'library-latency',
    handler: (event) => recorder.received(event.id),
  });

  for (const rate of RATES) {
    const count = rate * seconds;
    const raw = await measureBullmqLatency(context, rate, count);

    recorder = new LatencyRecorder(count);
    const resolved: number[] = [];
    const events = benchEvents(count);
    const report = await runOpenLoop({
      ratePerSecond: rate,
      count,
      send: async (index, dueAt) => {
        recorder.sent(events[index].id, index, dueAt);
        await bus.publish(events[index]);
        if (index >= count / 10) resolved.push(performance.now() - dueAt);
      },
    });
    if (report.failures > 0) throw new Error(`${report.failures} publishes failed`, { cause: report.firstError });
    // An overloaded contender drains its backlog after the schedule ends: allow it 200 events/s.
    await waitForCount(() => recorder.receivedCount, count, 30_000 + count * 5, `library events at ${rate}/s`);
    const library = recorder.summary();
    log(
      `library latency at ${rate}/s: p99 ${library.p99.toFixed(2)} ms (generator lag ≤ ${report.maxSendLagMs.toFixed(1)} ms)`,
    );

    const what = `${rate}/s for ${seconds} s, open loop, first 10% left out`;
    results.latency('latency', library, `publish → handler start, ${what}`, `_at_${rate}`);
    results.latency('raw_latency', raw, `raw BullMQ add → process, ${what}`, `_at_${rate}`);
    results.latency('publish_resolve', summarize(resolved), 'publish() call → resolved', `_at_${rate}`);
    results.ratio(`latency_p99_vs_raw_at_${rate}`, library.p99, raw.p99, 'library p99 / raw BullMQ p99');
  }
});
