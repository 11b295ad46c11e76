/**
 * The frame of every end-to-end throughput figure: from an empty table, publish `count` events,
 * wait until the last one is `processed` in PostgreSQL, and report events/s and the CPU each
 * process spent per 1,000 events.
 */
import type { DataSource } from 'typeorm';
import type { BenchContext } from '../support/run-benchmark.js';
import type { BenchResults } from '../support/bench-results.js';
import { cpuSeconds, perSecond } from '../support/bench-stats.js';
import { waitUntil } from '../support/bench-wait.js';
import { truncateEvents, waitAllProcessed } from '../support/event-table.js';
import { ServiceCpuMeter } from '../support/service-cpu.js';
import { SqlRecorder } from '../support/sql-recorder.js';

export interface EndToEndFigures {
  eventsPerSecond: number;
  elapsedMs: number;
  /** CPU seconds per 1,000 events of this process (publisher, and worker when it runs here). */
  cpuPer1000: number;
  postgresCpuPer1000?: number;
  redisCpuPer1000?: number;
  /** CPU per 1,000 events of child processes, by their name (workers running elsewhere). */
  childCpuPer1000?: Record<string, number>;
  /** SQL statements per 1,000 events, by shape (when the run had a recorder). */
  sqlPer1000?: Map<string, number>;
}

export interface EndToEndRun {
  label: string;
  /**
   * The harness's pool on the database whose `event_store` the contender writes (each contender
   * has its own database; the harness its own pool, so its polling is not counted as theirs).
   */
  db: DataSource;
  count: number;
  /** Publishes every event; may resolve before they are delivered. */
  publish(): Promise<void>;
  /** Handler calls made so far (cumulative; the frame takes the difference). */
  handled(): number | Promise<number>;
  /** Start from an empty table (default); `false` when the events were stored beforehand. */
  truncate?: boolean;
  /** The contender's SQL, to report its statements per 1,000 events. */
  sql?: SqlRecorder;
  /** Cumulative CPU seconds of child processes by name; read before and after, the difference is reported. */
  childCpu?: () => Promise<Record<string, number>>;
}

export async function measureEndToEnd(context: BenchContext, run: EndToEndRun): Promise<EndToEndFigures> {
  if (run.truncate !== false) await truncateEvents(run.db);
  const meter = new ServiceCpuMeter(run.db, context.env.redis);
  try {
    const handledBefore = await run.handled();
    const sqlBefore = run.sql?.snapshot();
    const childrenBefore = await run.childCpu?.();
    const stopServices = await meter.start();
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    await run.publish();
    // First until every handler ran, counted in memory: polling the table all along would put a
    // COUNT(*) scan every few milliseconds on the machine under test. Then, briefly, until the
    // table says every event is `processed` (the status writes that follow the handler).
    // Deadlines: at least 50 events/s, or something is broken rather than slow.
    await waitUntil(async () => (await run.handled()) - handledBefore >= run.count, {
      timeoutMs: 30_000 + run.count * 20,
      intervalMs: 5,
      message: async () => `${run.label}: ${(await run.handled()) - handledBefore} of ${run.count} handled`,
    });
    await waitAllProcessed(run.db, run.count, 30_000);
    const elapsedMs = performance.now() - started;
    const sqlAfter = run.sql?.snapshot();
    const cpu = cpuSeconds(process.cpuUsage(cpuBefore));
    const services = await stopServices();
    const per1000 = (seconds: number | undefined): number | undefined =>
      seconds === undefined ? undefined : (seconds * 1000) / run.count;
    const childrenAfter = await run.childCpu?.();
    const figures: EndToEndFigures = {
      eventsPerSecond: perSecond(run.count, elapsedMs),
      elapsedMs,
      cpuPer1000: per1000(cpu)!,
      postgresCpuPer1000: per1000(services.postgresSeconds),
      redisCpuPer1000: per1000(services.redisSeconds),
      childCpuPer1000: childrenAfter
        ? Object.fromEntries(
            Object.entries(childrenAfter).map(([name, seconds]) => [
              name,
              per1000(seconds - (childrenBefore?.[name] ?? 0))!,
            ]),
          )
        : undefined,
      sqlPer1000: sqlBefore && sqlAfter ? SqlRecorder.difference(sqlBefore, sqlAfter, run.count / 1000) : undefined,
    };
    context.log(`${run.label}: ${Math.round(figures.eventsPerSecond)} events/s (${run.count} events)`);
    return figures;
  } finally {
    meter.close();
  }
}

/** Records the figures of one contender under `name_…`. */
export function recordEndToEnd(results: BenchResults, name: string, figures: EndToEndFigures, what: string): void {
  results.record(`${name}_events_per_s`, figures.eventsPerSecond, 'events/s', what);
  results.record(`${name}_cpu_s_per_1k`, figures.cpuPer1000, 'CPU s/1k events', 'benchmark process');
  if (figures.postgresCpuPer1000 !== undefined) {
    results.record(`${name}_pg_cpu_s_per_1k`, figures.postgresCpuPer1000, 'CPU s/1k events', 'PostgreSQL backends');
  }
  if (figures.redisCpuPer1000 !== undefined) {
    results.record(`${name}_redis_cpu_s_per_1k`, figures.redisCpuPer1000, 'CPU s/1k events', 'Redis server');
  }
  for (const [child, cpu] of Object.entries(figures.childCpuPer1000 ?? {})) {
    results.record(`${name}_${child}_cpu_s_per_1k`, cpu, 'CPU s/1k events', `child process ${child}`);
  }
  if (figures.sqlPer1000) {
    const statements = [...figures.sqlPer1000.values()].reduce((sum, count) => sum + count, 0);
    results.record(
      `${name}_sql_per_1k`,
      statements,
      'statements/1k events',
      'SQL round trips (see the log for shapes)',
    );
  }
}

/** The statements of a run by shape, per 1,000 events: where the round trips go. */
export function logSqlShapes(context: BenchContext, label: string, figures: EndToEndFigures): void {
  if (!figures.sqlPer1000) return;
  const lines = [...figures.sqlPer1000.entries()].map(
    ([shape, count]) => `  ${count.toFixed(1).padStart(8)}  ${shape}`,
  );
  context.log(`${label}: SQL statements per 1,000 events\n${lines.join('\n')}`);
}
