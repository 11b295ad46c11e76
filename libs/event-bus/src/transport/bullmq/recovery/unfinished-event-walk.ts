/**
 * The periodic look of lost-job recovery at unfinished events: every `pending` or `processing` event
 * is handed to `recover` once it is older than the check interval, whatever else failed. Cheap at any
 * table size, because no index can find unfinished rows (one filtering on `status` would make every
 * status update non-HOT):
 *
 * - A pass walks the unfinished events in sequence order from `passStart`, a few pages per check,
 *   resuming where the last check stopped, so one check costs a bounded amount however large the
 *   backlog.
 * - Below `passStart` every event is finished, or is watched: its id is kept and looked up by primary
 *   key on every check. So the next pass starts past the old unfinished events (one in a long retry
 *   backoff, say) instead of walking every finished event after them again.
 * - `passStart` never moves past a sequence number drawn less than one check before the pass began:
 *   its transaction might not have committed when the pass walked by.
 */
import type { UnfinishedEvent, UnfinishedEvents } from '../../../core/ports/unfinished-events.js';

export interface UnfinishedEventWalkSettings {
  /** Rows per page. */
  batchSize: number;
  /** Age from which an unfinished event is handed to `recover`, in ms. */
  staleAfterMs: number;
  /** Pages of the pass walked per check. @default 20 */
  pagesPerCheck?: number;
  /** Old unfinished events kept by id at most; past it, the next pass starts at the first one not kept. @default 10000 */
  maxWatched?: number;
}

export class UnfinishedEventWalk {
  private passStart = 0;
  private passAt = 0;
  /** Rows numbered up to here had committed before this pass began. */
  private passSafeTop = 0;
  private previousTop = 0;
  /** The first unfinished event of this pass that could not be watched: the next pass starts there. */
  private firstUnwatched?: number;
  private readonly watched = new Set<string>();
  private readonly pagesPerCheck: number;
  private readonly maxWatched: number;

  constructor(
    private readonly unfinished: UnfinishedEvents,
    private readonly settings: UnfinishedEventWalkSettings,
  ) {
    this.pagesPerCheck = settings.pagesPerCheck ?? 20;
    this.maxWatched = settings.maxWatched ?? 10_000;
  }

  /** One check's share of the work: hands the stale unfinished events it meets to `recover`, in batches. */
  async step(recover: (rows: UnfinishedEvent[]) => Promise<void>, stopped: () => boolean): Promise<void> {
    const { batchSize, staleAfterMs } = this.settings;
    const last = await this.unfinished.lastSequence();
    await this.stepWatched(recover);
    for (let page = 0; page < this.pagesPerCheck; page++) {
      if (stopped()) return;
      const rows = await this.unfinished.unfinishedAfter(this.passAt, batchSize, staleAfterMs);
      for (const row of rows) this.watchIfBehind(row);
      await recover(rows.filter((row) => row.stale));
      if (rows.length < batchSize) {
        this.endPass(last);
        return;
      }
      this.passAt = rows[rows.length - 1].sequenceNumber;
    }
    this.previousTop = last;
  }

  /** The watched events that are still unfinished stay watched; the stale ones are recovered. */
  private async stepWatched(recover: (rows: UnfinishedEvent[]) => Promise<void>): Promise<void> {
    const ids = [...this.watched];
    this.watched.clear();
    for (let start = 0; start < ids.length; start += this.settings.batchSize) {
      const rows = await this.unfinished.unfinishedByIds(
        ids.slice(start, start + this.settings.batchSize),
        this.settings.staleAfterMs,
      );
      for (const row of rows) this.watched.add(row.id);
      await recover(rows.filter((row) => row.stale));
    }
  }

  /** Keeps an unfinished event the next pass will start past; the first one it cannot keep holds the start. */
  private watchIfBehind(row: UnfinishedEvent): void {
    const sequence = row.sequenceNumber;
    if (this.firstUnwatched === undefined && sequence <= this.passSafeTop && this.watched.size < this.maxWatched) {
      this.watched.add(row.id);
    } else {
      this.firstUnwatched ??= sequence;
    }
  }

  private endPass(top: number): void {
    const reach = Math.min(this.firstUnwatched === undefined ? Infinity : this.firstUnwatched - 1, this.passSafeTop);
    this.passStart = Math.max(this.passStart, reach);
    this.passAt = this.passStart;
    this.firstUnwatched = undefined;
    // Numbers drawn up to the previous check (one interval ago) have committed by the time the next pass walks.
    this.passSafeTop = this.previousTop;
    this.previousTop = top;
  }
}
