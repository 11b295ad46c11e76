/**
 * `npm run bench:versions`: what optimistic concurrency costs on the publish path. The same
 * workload twice in one run, on one bus: sequential appends (each `publish` awaited before the
 * next) round-robin over many workflows, once plain and once with `expectedVersion` (the version
 * the writer got back from its previous publish to that workflow; no race, so none is rejected).
 * The two alternate in slices on workflows of their own, so neither gets a warmer cache or a
 * fuller table. Figures: publishes per second each, the ratio, and per-publish latency.
 */
import type { NewDomainEvent } from '@app/event-bus';
import { bySize } from './support/bench-config.js';
import { BENCH_TENANTS, benchEvent } from './support/bench-events.js';
import { perSecond, summarize } from './support/bench-stats.js';
import { createLibraryBus } from './measures/library-bus.js';
import { runBenchmark } from './support/run-benchmark.js';

/** Slices per contender, alternating; a slice appends once to each of its workflows, `rounds` times. */
const SLICES = 4;

await runBenchmark('versions', async (context) => {
  const { env, results, size, log } = context;
  const workflows = bySize(size, { default: 100, full: 500 });
  const rounds = bySize(size, { default: 5, full: 10 });
  // Publish-only: the figure is the publish path (INSERT and enqueue), not delivery.
  const { bus } = await createLibraryBus(env, { queueName: 'versions', worker: false });

  const contenders = {
    plain: { times: [] as number[], elapsedMs: 0, count: 0 },
    expected: { times: [] as number[], elapsedMs: 0, count: 0 },
  };
  type Name = keyof typeof contenders;

  /** One slice: `rounds` passes over fresh workflows, one awaited publish each. */
  const slice = async (name: Name, index: number): Promise<void> => {
    const contender = contenders[name];
    const ids = Array.from({ length: workflows }, (_, workflow) => `bench-${name}-${index}-${workflow}`);
    const versions = new Map(ids.map((id) => [id, 0]));
    const started = performance.now();
    for (let round = 0; round < rounds; round++) {
      for (const workflowId of ids) {
        // One tenant per workflow (its stream), the bench's usual event otherwise.
        const event: NewDomainEvent = { ...benchEvent(round), tenantId: BENCH_TENANTS[0], metadata: { workflowId } };
        const before = performance.now();
        const stored =
          name === 'expected'
            ? await bus.publish(event, { expectedVersion: versions.get(workflowId)! })
            : await bus.publish(event);
        contender.times.push(performance.now() - before);
        versions.set(workflowId, stored.version!);
      }
    }
    contender.elapsedMs += performance.now() - started;
    contender.count += workflows * rounds;
  };

  log(`warm-up, then ${SLICES} slices each of ${workflows} workflows × ${rounds} sequential appends`);
  await slice('plain', -1);
  await slice('expected', -1);
  contenders.plain = { times: [], elapsedMs: 0, count: 0 };
  contenders.expected = { times: [], elapsedMs: 0, count: 0 };
  for (let index = 0; index < SLICES; index++) {
    // Which goes first alternates too.
    const order: Name[] = index % 2 === 0 ? ['plain', 'expected'] : ['expected', 'plain'];
    for (const name of order) await slice(name, index);
  }

  const what = `sequential publish, ${workflows * SLICES} workflows × ${rounds} events each`;
  const plainRate = results.record(
    'publish_sequential_per_s',
    perSecond(contenders.plain.count, contenders.plain.elapsedMs),
    'events/s',
    `${what}, without expectedVersion`,
  );
  const expectedRate = results.record(
    'publish_expected_version_per_s',
    perSecond(contenders.expected.count, contenders.expected.elapsedMs),
    'events/s',
    `${what}, with expectedVersion`,
  );
  results.ratio(
    'publish_expected_version_vs_plain',
    expectedRate,
    plainRate,
    'with expectedVersion / without (1 = no cost)',
  );
  results.latency('publish_sequential', summarize(contenders.plain.times), 'one publish, without expectedVersion');
  results.latency(
    'publish_expected_version',
    summarize(contenders.expected.times),
    'one publish, with expectedVersion',
  );
});
