import type { CheckedPrune } from './prune-options.validation.js';

/**
 * Where a prune has come to: the last event it examined, in `(timestamp, sequence_number)` order.
 * The timestamp is kept as the store returned it (PostgreSQL's text, microseconds included), so
 * the next batch starts exactly after it.
 */
export interface PruneCursor {
  timestamp: string;
  sequenceNumber: number;
}

/** What one batch did: how many it deleted, and the cursor after it (`undefined`: nothing was left to examine). */
export interface PruneBatchResult {
  deleted: number;
  next: PruneCursor | undefined;
}

/** One batch of a store: examines up to `batchSize` events after `after` and deletes the prunable ones among them. */
export type PruneBatch = (prune: CheckedPrune, after: PruneCursor | undefined) => Promise<PruneBatchResult>;

/**
 * The loop every store shares: batch after batch along the events older than `before`, each batch
 * its own short transaction, until the cursor reaches the cutoff or the signal aborts (checked
 * between batches, so a batch that started commits). Walking by cursor rather than "the first n
 * prunable rows" means events that must stay (unfinished ones, workflow heads) are examined once,
 * not again by every batch.
 */
export async function runPrune(prune: CheckedPrune, batch: PruneBatch): Promise<number> {
  let deleted = 0;
  let cursor: PruneCursor | undefined;
  while (!prune.signal?.aborted) {
    const result = await batch(prune, cursor);
    deleted += result.deleted;
    if (result.next === undefined) break;
    cursor = result.next;
  }
  return deleted;
}
