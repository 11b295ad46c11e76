/**
 * `npm run bench:scale`: competing consumers. The events are published first (with a publish-only
 * bus, into a paused queue); then one, or two, worker processes running the compiled library are
 * started, the queue is resumed, and the time until the last event is `processed` is taken. The
 * ratio says how much a second process adds — on a 2-core machine that also runs PostgreSQL and
 * Redis, expect far less than 2×.
 */
import { bySize } from './support/bench-config.js';
import { benchEvents, chunks } from './support/bench-events.js';
import { ChildWorker } from './support/child-worker.js';
import { truncateEvents } from './support/event-table.js';
import { median, medianBy } from './support/bench-stats.js';
import { runBenchmark } from './support/run-benchmark.js';
import type { BenchContext } from './support/run-benchmark.js';
import { measureEndToEnd, recordEndToEnd } from './measures/end-to-end.js';
import type { EndToEndFigures } from './measures/end-to-end.js';
import { createLibraryBus } from './measures/library-bus.js';
import type { LibraryBus } from './measures/library-bus.js';

const QUEUE = 'library-scale';
const WORKER_SCRIPT = new URL('./workers/scale-worker.js', import.meta.url);

await runBenchmark('scale', async (context) => {
  const { env, results, size } = context;
  const count = bySize(size, { default: 10_000, full: 50_000 });
  const rounds = bySize(size, { default: 1, full: 3 });
  const publisher = await createLibraryBus(env, { queueName: QUEUE, worker: false });

  const one: EndToEndFigures[] = [];
  const two: EndToEndFigures[] = [];
  for (let round = 1; round <= rounds; round++) {
    context.log(`round ${round} of ${rounds}`);
    one.push(await drainWith(context, publisher, 1, count));
    two.push(await drainWith(context, publisher, 2, count));
  }

  const per = `${count} events${rounds > 1 ? `, median of ${rounds} rounds` : ''}`;
  recordEndToEnd(
    results,
    'scale_1_worker',
    medianBy(one, (run) => run.eventsPerSecond),
    `one worker process, ${per}`,
  );
  recordEndToEnd(
    results,
    'scale_2_workers',
    medianBy(two, (run) => run.eventsPerSecond),
    `two worker processes, ${per}`,
  );
  results.record(
    'scale_2_vs_1',
    median(two.map((run, index) => run.eventsPerSecond / one[index].eventsPerSecond)),
    '×',
    'two worker processes / one (competing consumers)',
  );
});

/** Stores and enqueues `count` events with nobody consuming, then times `workers` processes draining them. */
async function drainWith(
  context: BenchContext,
  { bus, queue, db }: LibraryBus,
  workers: number,
  count: number,
): Promise<EndToEndFigures> {
  const { env } = context;
  await truncateEvents(db);
  await queue.pause();
  for (const batch of chunks(benchEvents(count), 500)) await bus.publishAll(batch);

  const children = await Promise.all(
    Array.from({ length: workers }, (_, index) =>
      ChildWorker.start(env, WORKER_SCRIPT, {
        name: `worker${index + 1}`,
        databaseUrl: env.databaseUrl,
        redis: env.redis,
        prefix: env.prefix,
        queueName: QUEUE,
      }),
    ),
  );
  try {
    return await measureEndToEnd(context, {
      label: `${workers} worker process(es)`,
      db,
      count,
      truncate: false,
      publish: () => queue.resume(),
      handled: async () => (await Promise.all(children.map((child) => child.handled()))).reduce((a, b) => a + b, 0),
      childCpu: async () =>
        Object.fromEntries(
          await Promise.all(
            children.map(async (child): Promise<[string, number]> => [child.name, await child.cpuSeconds()]),
          ),
        ),
    });
  } finally {
    await Promise.all(children.map((child) => child.stop()));
  }
}
