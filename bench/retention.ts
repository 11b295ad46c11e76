/**
 * `npm run bench:retention`: `pruneEvents` on a large table (50k rows default, 1M with `--full`;
 * filled in PostgreSQL with generate_series, 2% failed and 1% pending events among them):
 * - prune's rate (rows deleted per second) alone, and while publishers keep publishing;
 * - the publish rate during the prune against the rate without it, in the same run (ratio);
 * - a workflow query's latency and a replay's rate over the events that stay, before the prune,
 *   right after it (dead rows not vacuumed yet) and after VACUUM;
 * - the plan of one prune batch (EXPLAIN ANALYZE, rolled back).
 * Not part of `npm run bench`: even at its default size it takes about 40 s (fill, three replays,
 * publish rounds), a third of the suite's time, for a figure that changes only with the prune's SQL.
 */
import type { BullMQEventBus, PersistentEventStore } from '@app/event-bus';
import { bySize } from './support/bench-config.js';
import type { BenchContext } from './support/run-benchmark.js';
import { perSecond, summarize } from './support/bench-stats.js';
import { countEvents, fillEvents } from './support/event-table.js';
import { runBenchmark } from './support/run-benchmark.js';
import type { CapturedQuery } from './support/sql-recorder.js';
import { createLibraryBus } from './measures/library-bus.js';
import { BENCH_TENANTS } from './support/bench-events.js';

/** Publishes in flight during a publish-rate measurement. */
const PUBLISHERS = 20;
const BATCH_SIZE = 1000;

await runBenchmark('retention', async (context) => {
  const { env, results, size, log } = context;
  const rows = bySize(size, { default: 50_000, full: 1_000_000 });
  const workflows = rows / 100;
  const publishMs = bySize(size, { default: 2_000, full: 5_000 });

  log(`filling ${rows} events over ${workflows} workflows`);
  await fillEvents(env.dataSource, rows, workflows, (done) => log(`  ${done} rows`));
  // Unfinished and failed events among the old ones, which prune must step over.
  await env.dataSource.query(`UPDATE event_store SET status = 'failed' WHERE sequence_number % 50 = 0`);
  await env.dataSource.query(`UPDATE event_store SET status = 'pending' WHERE sequence_number % 100 = 1`);
  await env.dataSource.query('VACUUM ANALYZE event_store');

  // Event i's timestamp is now − (rows − i) s: the first quarter is pruned alone, the second while publishing.
  const [{ oldest }] = await env.dataSource.query<[{ oldest: Date }]>(
    `SELECT min(timestamp) AS oldest FROM event_store`,
  );
  const at = (share: number): Date => new Date(oldest.getTime() + share * rows * 1000);
  const quarter = at(0.25);
  const half = at(0.5);

  // Publish-only (no worker, no relay): published events stay pending, nothing else writes.
  const { bus, store, sql } = await createLibraryBus(env, {
    queueName: 'library-retention',
    worker: false,
    relay: false,
    handler: () => undefined,
  });
  const reads = async (label: string) => {
    const query = await measureWorkflowQueries(store, workflows);
    const started = performance.now();
    const replay = await bus.replayEvents(half);
    const replayRate = perSecond(replay.events, performance.now() - started);
    log(
      `${label}: workflow query p50 ${query.p50.toFixed(2)} ms p99 ${query.p99.toFixed(2)} ms; ` +
        `replay of ${replay.events} events ${Math.round(replayRate)}/s`,
    );
    return { query, replayRate, replayed: replay.events };
  };

  const before = await reads('before');
  const publishAlone = await measurePublishing(bus, publishMs);
  log(`publish alone: ${Math.round(publishAlone)}/s`);

  // The plan of a batch in the middle of the work, rolled back so it deletes nothing.
  const statements = await sql.during(() =>
    store.prune({ before: new Date(oldest.getTime() - 1000), batchSize: BATCH_SIZE }),
  );
  const firstBatch = statements.find((statement) => statement.query.includes('DELETE FROM event_store'));
  if (!firstBatch) throw new Error('no prune batch statement was captured');
  log(`plan of a prune batch:\n${await explainRolledBack(context, firstBatch, quarter, half)}`);

  const alone = await timePrune(store, quarter);
  log(`prune alone: ${alone.deleted} rows in ${(alone.ms / 1000).toFixed(1)} s, ${Math.round(alone.rate)} rows/s`);

  // Publishers run from just before the prune until it resolves.
  const publishing = startPublishing(bus);
  const underLoad = await timePrune(store, half);
  const published = await publishing.stop();
  const publishDuring = perSecond(published.count, published.ms);
  log(
    `prune while publishing: ${underLoad.deleted} rows, ${Math.round(underLoad.rate)} rows/s; ` +
      `publish ${Math.round(publishDuring)}/s during it`,
  );
  const publishAfter = await measurePublishing(bus, publishMs);
  log(`publish alone again: ${Math.round(publishAfter)}/s`);

  const afterPrune = await reads('after prune');
  await env.dataSource.query('VACUUM ANALYZE event_store');
  const afterVacuum = await reads('after VACUUM');
  // Replay reads from `half` on: the prune must not have taken any of it (published events add to it).
  if (afterPrune.replayed < before.replayed) {
    throw new Error(
      `replay after the prune read ${afterPrune.replayed} events, fewer than before (${before.replayed})`,
    );
  }
  const left = await countEvents(env.dataSource, `timestamp < '${half.toISOString()}'`);

  const what = `${rows} rows, batches of ${BATCH_SIZE}`;
  results.record('prune_rows_per_s', alone.rate, 'rows/s', `pruneEvents alone, first quarter of ${what}`);
  results.record(
    'prune_rows_per_s_while_publishing',
    underLoad.rate,
    'rows/s',
    `second quarter, ${PUBLISHERS} publishes in flight`,
  );
  results.record('prune_rows_left_before_cutoff', left, 'rows', 'failed, pending and workflow heads the prune kept');
  results.record(
    'publish_per_s_alone',
    (publishAlone + publishAfter) / 2,
    'events/s',
    `publish, ${PUBLISHERS} in flight, mean of before and after`,
  );
  results.record('publish_per_s_during_prune', publishDuring, 'events/s', 'the same publishers while the prune ran');
  results.ratio(
    'publish_during_prune_vs_alone',
    publishDuring,
    (publishAlone + publishAfter) / 2,
    'publish rate during / without prune',
  );
  results.latency('retention_workflow_query_before', before.query, `getEventsByWorkflowId, ${what}`);
  results.latency('retention_workflow_query_after', afterPrune.query, 'the same, right after the prune');
  results.latency('retention_workflow_query_vacuumed', afterVacuum.query, 'the same, after VACUUM');
  results.record('retention_replay_per_s_before', before.replayRate, 'events/s', 'replayEvents of the half that stays');
  results.record('retention_replay_per_s_after', afterPrune.replayRate, 'events/s', 'the same, right after the prune');
  results.record('retention_replay_per_s_vacuumed', afterVacuum.replayRate, 'events/s', 'the same, after VACUUM');
});

async function timePrune(
  store: PersistentEventStore,
  before: Date,
): Promise<{ deleted: number; ms: number; rate: number }> {
  const started = performance.now();
  const deleted = await store.prune({ before, batchSize: BATCH_SIZE });
  const ms = performance.now() - started;
  return { deleted, ms, rate: perSecond(deleted, ms) };
}

/** `PUBLISHERS` loops of `publish`, each awaited before its next, until stopped. */
function startPublishing(bus: BullMQEventBus): { stop(): Promise<{ count: number; ms: number }> } {
  let running = true;
  let count = 0;
  const started = performance.now();
  const loops = Array.from({ length: PUBLISHERS }, async (_, loop) => {
    while (running) {
      await bus.publish({
        type: 'workflow.node.completed',
        tenantId: BENCH_TENANTS[loop % BENCH_TENANTS.length],
        payload: { nodeId: `node-${loop}`, attempt: 1 },
        metadata: { workflowId: `wf-publish-${loop}` },
      });
      count++;
    }
  });
  return {
    async stop() {
      running = false;
      const ms = performance.now() - started;
      await Promise.all(loops);
      return { count, ms };
    },
  };
}

async function measurePublishing(bus: BullMQEventBus, ms: number): Promise<number> {
  const publishing = startPublishing(bus);
  await new Promise((resolve) => setTimeout(resolve, ms));
  const { count, ms: elapsed } = await publishing.stop();
  return perSecond(count, elapsed);
}

async function measureWorkflowQueries(store: PersistentEventStore, workflows: number) {
  const times: number[] = [];
  for (let index = 0; index < 300; index++) {
    const id = `wf-fill-${Math.floor(Math.random() * workflows)}`;
    const started = performance.now();
    await store.getEventsByWorkflowId(id);
    times.push(performance.now() - started);
  }
  return summarize(times.slice(50)); // the first 50 warm the cache
}

/** EXPLAIN ANALYZE of the library's batch statement, from `from` to `before`, in a transaction rolled back. */
async function explainRolledBack(
  { env }: BenchContext,
  statement: CapturedQuery,
  from: Date,
  before: Date,
): Promise<string> {
  const runner = env.dataSource.createQueryRunner();
  await runner.startTransaction();
  try {
    const params = [...statement.parameters];
    params[0] = before;
    params[1] = from.toISOString();
    const plan = (await runner.query(`EXPLAIN (ANALYZE, BUFFERS) ${statement.query}`, params)) as {
      'QUERY PLAN': string;
    }[];
    return plan.map((row) => row['QUERY PLAN']).join('\n');
  } finally {
    await runner.rollbackTransaction();
    await runner.release();
  }
}
