/**
 * Sees the SQL a contender sends through its TypeORM DataSource (as its logger): counts the
 * statements by shape — how many round trips per 1,000 events, and of which kind — and, on
 * demand, keeps the statements of one call so a benchmark can show the plan PostgreSQL ran
 * (EXPLAIN ANALYZE) for exactly that statement instead of a hand-written guess of it.
 */
import type { DataSource, Logger } from 'typeorm';

export interface CapturedQuery {
  query: string;
  parameters: unknown[];
}

export class SqlRecorder implements Logger {
  private readonly counts = new Map<string, number>();
  private captured: CapturedQuery[] | undefined;

  /** The statements run during `action` (whatever else runs meanwhile on the DataSource too). */
  async during(action: () => Promise<unknown>): Promise<CapturedQuery[]> {
    this.captured = [];
    try {
      await action();
      return this.captured;
    } finally {
      this.captured = undefined;
    }
  }

  /** Statements so far by shape (e.g. `UPDATE event_store SET status = 'processing'`). */
  snapshot(): Map<string, number> {
    return new Map(this.counts);
  }

  /** Statements by shape between two snapshots, per `per` units of work, most frequent first. */
  static difference(before: Map<string, number>, after: Map<string, number>, per: number): Map<string, number> {
    const rows = [...after.entries()]
      .map(([shape, count]): [string, number] => [shape, (count - (before.get(shape) ?? 0)) / per])
      .filter(([, count]) => count > 0)
      .sort((a, b) => b[1] - a[1]);
    return new Map(rows);
  }

  logQuery(query: string, parameters?: unknown): void {
    const shape = query.replace(/\s+/g, ' ').trim().slice(0, 80);
    this.counts.set(shape, (this.counts.get(shape) ?? 0) + 1);
    this.captured?.push({ query, parameters: Array.isArray(parameters) ? parameters : [] });
  }

  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
}

/** The plan PostgreSQL ran the statement with, with real timings and buffer counts. */
export async function explainAnalyze(dataSource: DataSource, captured: CapturedQuery): Promise<string> {
  const rows = await dataSource.query<{ 'QUERY PLAN': string }[]>(
    `EXPLAIN (ANALYZE, BUFFERS) ${captured.query}`,
    captured.parameters,
  );
  return rows.map((row) => row['QUERY PLAN']).join('\n');
}
