/**
 * `npm run bench:observability`: what metrics and tracing cost. The same end-to-end workload as
 * `throughput`'s publishAll (batches of 500, a no-op handler, until `processed`) on two buses of
 * the same run, each on its own database and queue, one without metrics and one with them (its own
 * prom-client registry); then again
 * with an OpenTelemetry SDK registered (spans of both publish and delivery, batched to an exporter
 * that drops them), so each ratio compares the same code with an instrument off and on.
 */
import { context, propagation, trace } from '@opentelemetry/api';
import { BatchSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { Registry } from 'prom-client';
import { bySize } from './support/bench-config.js';
import { benchEvents, chunks } from './support/bench-events.js';
import { median, medianBy } from './support/bench-stats.js';
import { runBenchmark } from './support/run-benchmark.js';
import { measureEndToEnd, recordEndToEnd, type EndToEndFigures } from './measures/end-to-end.js';
import { createLibraryBus, type LibraryBus } from './measures/library-bus.js';

/** Takes the spans and drops them: the SDK's work (spans, batching) is measured, not an exporter's I/O. */
class DroppingExporter implements SpanExporter {
  exported = 0;
  export(spans: ReadableSpan[], done: (result: { code: 0 }) => void): void {
    this.exported += spans.length;
    done({ code: 0 });
  }
  async shutdown(): Promise<void> {}
}

await runBenchmark('observability', async (benchContext) => {
  const { results, size } = benchContext;
  const count = bySize(size, { default: 10_000, full: 50_000 });
  const rounds = bySize(size, { default: 1, full: 3 });

  const counters = { plain: 0, metered: 0 };
  const plain = await createLibraryBus(benchContext.env, {
    queueName: 'plain',
    ownDatabase: true,
    handler: () => void counters.plain++,
  });
  const registry = new Registry();
  const metered = await createLibraryBus(benchContext.env, {
    queueName: 'metered',
    ownDatabase: true,
    metrics: { registry },
    handler: () => void counters.metered++,
  });

  const measure = (on: LibraryBus, handled: () => number, label: string, events = count) =>
    measureEndToEnd(benchContext, {
      db: on.db,
      sql: on.sql,
      handled,
      label,
      count: events,
      publish: async () => {
        for (const batch of chunks(benchEvents(events), 500)) await on.bus.publishAll(batch);
      },
    });
  const plainRun = (label: string, events?: number) => measure(plain, () => counters.plain, label, events);
  const meteredRun = (label: string, events?: number) => measure(metered, () => counters.metered, label, events);

  const exporter = new DroppingExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] });
  const tracing = {
    on: () => provider.register(),
    off: () => {
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };

  await plainRun('warm-up, instruments off', 1000);
  await meteredRun('warm-up, metrics on', 1000);
  const figures: Record<'off' | 'metrics' | 'tracing' | 'both', EndToEndFigures[]> = {
    off: [],
    metrics: [],
    tracing: [],
    both: [],
  };
  for (let round = 1; round <= rounds; round++) {
    benchContext.log(`round ${round} of ${rounds}`);
    figures.off.push(await plainRun('publishAll, instruments off'));
    figures.metrics.push(await meteredRun('publishAll, metrics on'));
    tracing.on();
    try {
      // The SDK's code paths warm up too, so the first traced figure is not a JIT's.
      if (round === 1) await plainRun('warm-up, tracing on', 1000);
      figures.tracing.push(await plainRun('publishAll, tracing on (SDK registered)'));
      figures.both.push(await meteredRun('publishAll, metrics and tracing on'));
    } finally {
      tracing.off();
    }
  }
  await provider.shutdown();
  // Two spans per event (publish, handle) reached the exporter: the SDK really was at work.
  benchContext.log(`${exporter.exported} spans exported`);
  // A scrape after the workload, as Prometheus would make it.
  const scrapeStarted = performance.now();
  await registry.metrics();
  results.record(
    'scrape_ms',
    performance.now() - scrapeStarted,
    'ms',
    'one scrape of the metered bus (gauges query PostgreSQL and Redis)',
  );

  const typical = (runs: EndToEndFigures[]) => medianBy(runs, (run) => run.eventsPerSecond);
  const per = `${count} events${rounds > 1 ? `, median of ${rounds} rounds` : ''}`;
  recordEndToEnd(
    results,
    'instruments_off',
    typical(figures.off),
    `publishAll (batches of 500), no metrics, no SDK, ${per}`,
  );
  recordEndToEnd(results, 'metrics_on', typical(figures.metrics), `the same with metrics: { registry }, ${per}`);
  recordEndToEnd(
    results,
    'tracing_on',
    typical(figures.tracing),
    `the same with an OpenTelemetry SDK registered, ${per}`,
  );
  recordEndToEnd(results, 'metrics_tracing_on', typical(figures.both), `the same with both, ${per}`);
  // Each ratio within a round, then the median over the rounds.
  const ratio = (runs: EndToEndFigures[]) =>
    median(runs.map((run, round) => run.eventsPerSecond / figures.off[round].eventsPerSecond));
  results.record('metrics_vs_off', ratio(figures.metrics), '×', 'throughput kept with metrics on');
  results.record('tracing_vs_off', ratio(figures.tracing), '×', 'throughput kept with tracing (SDK) on');
  results.record('metrics_tracing_vs_off', ratio(figures.both), '×', 'throughput kept with both on');
});
