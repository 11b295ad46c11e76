/**
 * `npm run bench:throughput`: the library end to end (publish → stored → delivered → no-op
 * handler → status `processed`) in three publishing styles, against the naive peer (100 publishes
 * in flight, and one at a time) and raw BullMQ, all in the same run; then `publishAll` again on
 * the PostgreSQL queue backend (no Redis), against the same naive peer in the same rounds. Worker
 * and publisher share this process, as in a single app instance; PostgreSQL's and Redis's CPU are
 * reported beside it.
 */
import { bySize } from './support/bench-config.js';
import { benchEvents, chunks } from './support/bench-events.js';
import { runWithConcurrency } from './support/load-generators.js';
import { median, medianBy } from './support/bench-stats.js';
import { runBenchmark } from './support/run-benchmark.js';
import { logSqlShapes, measureEndToEnd, recordEndToEnd } from './measures/end-to-end.js';
import type { EndToEndFigures } from './measures/end-to-end.js';
import { createLibraryBus, createPostgresBackendBus } from './measures/library-bus.js';
import { NaivePeer } from './measures/naive-peer.js';
import { measureBullmqThroughput } from './measures/raw-bullmq.js';

await runBenchmark('throughput', async (context) => {
  const { env, results, size } = context;
  const count = bySize(size, { default: 10_000, full: 50_000 });
  // One at a time the rate is steady after a few hundred events, and 50k would take many minutes.
  const oneAtATime = bySize(size, { default: 1_000, full: 10_000 });
  const rounds = bySize(size, { default: 1, full: 3 });

  const raw = await measureBullmqThroughput(context, count);
  const naive = await NaivePeer.create(context);
  let handledCount = 0;
  const handled = (): number => handledCount;
  const { bus, db, sql } = await createLibraryBus(env, {
    queueName: 'library',
    handler: () => {
      handledCount++;
    },
  });
  const library = { db, sql, handled };
  let postgresHandledCount = 0;
  const postgresBackend = await createPostgresBackendBus(env, {
    queueName: 'library-pg',
    handler: () => {
      postgresHandledCount++;
    },
  });
  const onPostgres = { db: postgresBackend.db, sql: postgresBackend.sql, handled: () => postgresHandledCount };

  const publishAll =
    (events = benchEvents(count), on = bus) =>
    async (): Promise<void> => {
      for (const batch of chunks(events, 500)) await on.publishAll(batch);
    };
  const publishConcurrently = (inFlight: number, events: ReturnType<typeof benchEvents>) => (): Promise<void> =>
    runWithConcurrency(events.length, inFlight, (index) => bus.publish(events[index]));

  // Warm-up of the library's code paths and connections (the naive peer warms itself up).
  await measureEndToEnd(context, {
    ...library,
    label: 'library warm-up',
    count: 1000,
    publish: publishAll(benchEvents(1000)),
  });
  await measureEndToEnd(context, {
    ...library,
    label: 'library warm-up',
    count: 500,
    publish: publishConcurrently(100, benchEvents(500)),
  });
  await measureEndToEnd(context, {
    ...onPostgres,
    label: 'library warm-up, PostgreSQL backend',
    count: 1000,
    publish: publishAll(benchEvents(1000), postgresBackend.bus),
  });

  const figures: Record<'naive100' | 'publishAll' | 'publish100' | 'postgresPublishAll', EndToEndFigures[]> = {
    naive100: [],
    publishAll: [],
    publish100: [],
    postgresPublishAll: [],
  };
  for (let round = 1; round <= rounds; round++) {
    context.log(`round ${round} of ${rounds}`);
    figures.naive100.push(await naive.measure(count, 100));
    figures.publishAll.push(
      await measureEndToEnd(context, {
        ...library,
        label: 'publishAll, batches of 500',
        count,
        publish: publishAll(),
      }),
    );
    figures.publish100.push(
      await measureEndToEnd(context, {
        ...library,
        label: 'publish, 100 in flight',
        count,
        publish: publishConcurrently(100, benchEvents(count)),
      }),
    );
    figures.postgresPublishAll.push(
      await measureEndToEnd(context, {
        ...onPostgres,
        label: 'publishAll, batches of 500, PostgreSQL backend',
        count,
        publish: publishAll(benchEvents(count), postgresBackend.bus),
      }),
    );
  }
  // One at a time, each side, back to back: the same event, handler and count.
  const naive1 = await naive.measure(oneAtATime, 1);
  const publish1 = await measureEndToEnd(context, {
    ...library,
    label: 'publish, one at a time',
    count: oneAtATime,
    publish: publishConcurrently(1, benchEvents(oneAtATime)),
  });

  const typical = (runs: EndToEndFigures[]): EndToEndFigures => medianBy(runs, (run) => run.eventsPerSecond);
  const per = `${count} events${rounds > 1 ? `, median of ${rounds} rounds` : ''}`;
  recordEndToEnd(results, 'publishAll', typical(figures.publishAll), `library publishAll (batches of 500), ${per}`);
  recordEndToEnd(results, 'publish100', typical(figures.publish100), `library publish, 100 in flight, ${per}`);
  recordEndToEnd(results, 'publish1', publish1, `library publish, one at a time, ${oneAtATime} events`);
  recordEndToEnd(results, 'naive100', typical(figures.naive100), `naive peer, 100 in flight, ${per}`);
  recordEndToEnd(results, 'naive1', naive1, `naive peer, one at a time, ${oneAtATime} events`);
  recordEndToEnd(
    results,
    'postgres_backend_publishAll',
    typical(figures.postgresPublishAll),
    `library publishAll (batches of 500) on the PostgreSQL queue backend, no Redis, ${per}`,
  );
  results.record('raw_bullmq_jobs_per_s', raw.jobsPerSecond, 'jobs/s', 'addBulk (1,000) + no-op worker');
  logSqlShapes(context, 'publishAll', typical(figures.publishAll));
  logSqlShapes(context, 'publish, 100 in flight', typical(figures.publish100));
  logSqlShapes(context, 'publish, one at a time', publish1);
  logSqlShapes(context, 'naive peer, 100 in flight', typical(figures.naive100));
  logSqlShapes(
    context,
    "publishAll, PostgreSQL backend (the library's own statements)",
    typical(figures.postgresPublishAll),
  );

  // Each ratio is taken within a round (same conditions), then the median over the rounds.
  const ratio = (runs: EndToEndFigures[]): number =>
    median(runs.map((run, round) => run.eventsPerSecond / figures.naive100[round].eventsPerSecond));
  results.record(
    'publishAll_vs_naive',
    ratio(figures.publishAll),
    '×',
    'publishAll / naive 100 in flight (target ≥ 5)',
  );
  results.record(
    'publish100_vs_naive',
    ratio(figures.publish100),
    '×',
    'publish 100 / naive 100 in flight (target ≥ 4)',
  );
  results.record(
    'postgres_backend_publishAll_vs_naive',
    ratio(figures.postgresPublishAll),
    '×',
    'publishAll on the PostgreSQL queue backend / naive 100 in flight (on Redis)',
  );
  results.ratio(
    'publish1_vs_naive1',
    publish1.eventsPerSecond,
    naive1.eventsPerSecond,
    'publish one at a time / naive one at a time',
  );
  results.ratio(
    'publishAll_vs_raw_bullmq',
    typical(figures.publishAll).eventsPerSecond,
    raw.jobsPerSecond,
    'share of raw BullMQ kept',
  );
  results.ratio(
    'publish100_vs_raw_bullmq',
    typical(figures.publish100).eventsPerSecond,
    raw.jobsPerSecond,
    'share of raw BullMQ kept',
  );
});
