/**
 * BullMQ alone, the ceiling of any pipeline built on it: `addBulk` into a queue that a no-op
 * worker drains (jobs/s end-to-end), and the latency from `add` to the processor's start under
 * an open-loop load. Jobs carry the same event as the library's, under the same job id.
 */
import type { BenchContext } from '../support/run-benchmark.js';
import { benchEvents, chunks } from '../support/bench-events.js';
import { createBenchQueue, createBenchWorker } from '../support/bench-queues.js';
import { cpuSeconds, perSecond } from '../support/bench-stats.js';
import type { LatencySummary } from '../support/bench-stats.js';
import { waitForCount } from '../support/bench-wait.js';
import { LatencyRecorder } from '../support/latency-recorder.js';
import { runOpenLoop } from '../support/load-generators.js';

export interface RawThroughput {
  jobsPerSecond: number;
  cpuPer1000: number;
}

export async function measureBullmqThroughput(context: BenchContext, count: number): Promise<RawThroughput> {
  const name = 'raw-throughput';
  const queue = createBenchQueue(context.env, name);
  let completed = 0;
  const worker = createBenchWorker(context.env, name, async () => undefined);
  worker.on('completed', () => completed++);
  await worker.waitUntilReady();

  const run = async (jobs: number): Promise<number> => {
    completed = 0;
    const batches = chunks(benchEvents(jobs), 1000);
    const started = performance.now();
    for (const batch of batches) {
      await queue.addBulk(batch.map((event) => ({ name: 'event', data: { event }, opts: { jobId: event.id } })));
    }
    await waitForCount(() => completed, jobs, 30_000 + jobs * 10, 'raw BullMQ jobs completed');
    return performance.now() - started;
  };

  await run(Math.min(1000, count));
  const cpuBefore = process.cpuUsage();
  const elapsedMs = await run(count);
  const figures = {
    jobsPerSecond: perSecond(count, elapsedMs),
    cpuPer1000: (cpuSeconds(process.cpuUsage(cpuBefore)) * 1000) / count,
  };
  context.log(`raw BullMQ addBulk + no-op worker: ${Math.round(figures.jobsPerSecond)} jobs/s`);
  return figures;
}

/** add → processor start, at `ratePerSecond` for `count` jobs; the first tenth is warm-up, left out. */
export async function measureBullmqLatency(
  context: BenchContext,
  ratePerSecond: number,
  count: number,
): Promise<LatencySummary> {
  const name = `raw-latency-${ratePerSecond}`;
  const queue = createBenchQueue(context.env, name);
  const recorder = new LatencyRecorder(count);
  const worker = createBenchWorker(context.env, name, async (job) => recorder.received(job.id!));
  await worker.waitUntilReady();

  const events = benchEvents(count);
  const report = await runOpenLoop({
    ratePerSecond,
    count,
    send: (index, dueAt) => {
      const event = events[index];
      recorder.sent(event.id, index, dueAt);
      return queue.add('event', { event }, { jobId: event.id });
    },
  });
  if (report.failures > 0) throw new Error(`${report.failures} raw adds failed`, { cause: report.firstError });
  await waitForCount(() => recorder.receivedCount, count, 30_000 + count * 5, `raw BullMQ jobs at ${ratePerSecond}/s`);
  const summary = recorder.summary();
  context.log(`raw BullMQ latency at ${ratePerSecond}/s: p99 ${summary.p99.toFixed(2)} ms`);
  return summary;
}
