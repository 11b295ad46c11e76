/**
 * The naive peer: what a Nest developer writes by hand without the library. Per event one
 * INSERT, then one `queue.add`; a worker (concurrency 10) runs a no-op handler, then one
 * `UPDATE … SET status`. No batching, no outbox, no retries per handler: the yardstick the
 * library's extra guarantees are measured against. It has a database of its own (see
 * `BenchEnvironment.createDatabase`).
 */
import type { Queue } from 'bullmq';
import type { DataSource } from 'typeorm';
import type { BenchContext } from '../support/run-benchmark.js';
import type { BenchEvent } from '../support/bench-events.js';
import { benchEvents } from '../support/bench-events.js';
import { createBenchQueue, createBenchWorker } from '../support/bench-queues.js';
import { runWithConcurrency } from '../support/load-generators.js';
import { insertEvent } from '../support/event-table.js';
import { SqlRecorder } from '../support/sql-recorder.js';
import { measureEndToEnd } from './end-to-end.js';
import type { EndToEndFigures } from './end-to-end.js';

interface NaivePeerParts {
  /** The peer's own pool, whose SQL `sql` records. */
  db: DataSource;
  sql: SqlRecorder;
  /** The harness's pool on the peer's database (truncating, waiting for `processed`). */
  harness: DataSource;
  queue: Queue;
  handled: () => number;
}

export class NaivePeer {
  private constructor(
    private readonly context: BenchContext,
    private readonly parts: NaivePeerParts,
  ) {}

  static async create(context: BenchContext): Promise<NaivePeer> {
    const { env } = context;
    const database = await env.createDatabase('naive');
    const sql = new SqlRecorder();
    const db = await env.openDataSource({ url: database.url, logger: sql });
    const queue = createBenchQueue(env, 'naive');
    let handled = 0;
    const worker = createBenchWorker(env, 'naive', async (job) => {
      const { event } = job.data as { event: BenchEvent };
      noopHandler(event);
      handled++;
      await db.query(`UPDATE event_store SET status = 'processed' WHERE id = $1`, [event.id]);
    });
    await worker.waitUntilReady();
    return new NaivePeer(context, { db, sql, harness: database.dataSource, queue, handled: () => handled });
  }

  async publish(event: BenchEvent): Promise<void> {
    await insertEvent(this.parts.db, event);
    await this.parts.queue.add('event', { event }, { jobId: event.id });
  }

  /** Events/s end-to-end with `inFlight` publishes running at once (1: one at a time). */
  async measure(count: number, inFlight: number): Promise<EndToEndFigures> {
    await this.run(benchEvents(300), 10, 'naive peer warm-up'); // neither JIT nor connecting is measured
    return this.run(benchEvents(count), inFlight, `naive peer, ${inFlight} in flight`);
  }

  private run(events: BenchEvent[], inFlight: number, label: string): Promise<EndToEndFigures> {
    return measureEndToEnd(this.context, {
      label,
      db: this.parts.harness,
      sql: this.parts.sql,
      count: events.length,
      publish: () => runWithConcurrency(events.length, inFlight, (index) => this.publish(events[index])),
      handled: this.parts.handled,
    });
  }
}

function noopHandler(_event: BenchEvent): void {}
