/**
 * `npm run bench:query`: `getEventsByWorkflowId` on a large table (1M rows, 10k workflows at full
 * size; 200k rows default): latency percentiles over random workflow ids, next to the same
 * query written by hand, and the plan of the library's statement.
 */
import { EventStoreRepository, PersistentEventStore, eventBusEntities } from '@app/event-bus';
import { bySize } from './support/bench-config.js';
import { summarize } from './support/bench-stats.js';
import { countEvents, fillEvents } from './support/event-table.js';
import { runBenchmark } from './support/run-benchmark.js';
import { SqlRecorder, explainAnalyze } from './support/sql-recorder.js';

const WORKFLOWS = 10_000;

await runBenchmark('query', async (context) => {
  const { env, results, size, log } = context;
  const rows = bySize(size, { default: 200_000, full: 1_000_000 });
  const samples = 1000;

  log(`filling ${rows} events over ${WORKFLOWS} workflows`);
  await fillEvents(env.dataSource, rows, WORKFLOWS, (done) => log(`  ${done} rows`));
  const capture = new SqlRecorder();
  const store = new PersistentEventStore(
    new EventStoreRepository(await env.openDataSource({ entities: eventBusEntities, logger: capture })),
  );
  const perWorkflow = (await countEvents(env.dataSource)) / WORKFLOWS;

  const library = (id: string): Promise<unknown> => store.getEventsByWorkflowId(id);
  const handWritten = (id: string): Promise<unknown> =>
    env.dataSource.query('SELECT * FROM event_store WHERE workflow_id = $1 ORDER BY sequence_number', [id]);

  // Warm-up, then both contenders alternately on ids of their own (a shared id would be served
  // from the cache the other one just filled).
  await timeQueries(randomWorkflowIds(100), library);
  await timeQueries(randomWorkflowIds(100), handWritten);
  const libraryTimes: number[] = [];
  const rawTimes: number[] = [];
  const libraryIds = randomWorkflowIds(samples);
  const rawIds = randomWorkflowIds(samples);
  for (let index = 0; index < samples; index++) {
    libraryTimes.push(...(await timeQueries([libraryIds[index]], library)));
    rawTimes.push(...(await timeQueries([rawIds[index]], handWritten)));
  }
  const lib = summarize(libraryTimes);
  const raw = summarize(rawTimes);

  const what = `${samples} random workflows of ${Math.round(perWorkflow)} events, ${rows} rows`;
  results.latency('workflow_query', lib, `getEventsByWorkflowId, ${what}`);
  results.latency('raw_workflow_query', raw, 'hand-written SELECT by workflow_id, same table');
  results.ratio('workflow_query_p99_vs_raw', lib.p99, raw.p99, 'library p99 / hand-written p99');

  const [statement] = await capture.during(() => store.getEventsByWorkflowId(libraryIds[0]));
  log(`plan of the library's statement:\n${statement.query}\n${await explainAnalyze(env.dataSource, statement)}`);
});

function randomWorkflowIds(count: number): string[] {
  return Array.from({ length: count }, () => `wf-fill-${Math.floor(Math.random() * WORKFLOWS)}`);
}

async function timeQueries(ids: readonly string[], query: (id: string) => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (const id of ids) {
    const started = performance.now();
    await query(id);
    times.push(performance.now() - started);
  }
  return times;
}
