/**
 * Recovery time of a fault: from the moment it ended until every event acknowledged by then is
 * `processed` or `failed`. Started when the fault ends, it polls in the background while the
 * stream goes on, so the figure does not include the rest of the stream.
 */
import type { DataSource } from 'typeorm';
import { readAcks, type OracleFiles } from './oracle-files.js';

export class RecoveryWatch {
  private settledAt?: number;
  private stopped = false;
  private readonly done: Promise<void>;

  constructor(
    private readonly dataSource: DataSource,
    files: OracleFiles,
    private readonly endedAt: number,
    boundMs: number,
  ) {
    const ids = [...readAcks(files).keys()];
    this.done = this.poll(ids, endedAt + boundMs);
  }

  /** ms from the end of the fault until everything acknowledged by then settled; NaN if not (yet) within the bound. */
  async recoveryMs(): Promise<number> {
    await this.done;
    return this.settledAt === undefined ? Number.NaN : this.settledAt - this.endedAt;
  }

  /** Stops polling (cleanup of a failed test). */
  stop(): void {
    this.stopped = true;
  }

  private async poll(ids: string[], deadline: number): Promise<void> {
    while (!this.stopped && Date.now() < deadline) {
      try {
        const [{ settled }] = await this.dataSource.query<{ settled: number }[]>(
          `SELECT count(*)::int AS settled FROM event_store WHERE id = ANY($1::uuid[]) AND status IN ('processed', 'failed')`,
          [ids],
        );
        if (settled === ids.length) {
          this.settledAt = Date.now();
          return;
        }
      } catch {
        // The database may be restarting: try again.
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
