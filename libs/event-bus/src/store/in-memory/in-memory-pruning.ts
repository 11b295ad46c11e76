/**
 * One batch of `prune` over the in-memory tables, with the rules of schema/prune-batch.sql.ts: the
 * next `batchSize` events older than `before` in (timestamp, sequence) order are examined; deleted
 * are the finished ones of the asked statuses with no delivery record still retrying (nor failed,
 * unless failed events were asked for) that are not the newest event of their workflow stream.
 */
import type { CheckedPrune } from '../prune-options.validation.js';
import type { PruneBatchResult, PruneCursor } from '../prune-loop.js';
import { toStoredEvent, type EventRow, type InMemoryTables } from './in-memory-tables.js';

export async function pruneInMemoryBatch(
  tables: InMemoryTables,
  prune: CheckedPrune,
  after: PruneCursor | undefined,
): Promise<PruneBatchResult> {
  const before = prune.before.getTime();
  const examined = tables.events
    .filter((row) => Date.parse(row.timestamp) < before && (after === undefined || isAfter(row, after)))
    .sort(byTimeThenSequence)
    .slice(0, prune.batchSize);
  const keptDeliveryStatuses = new Set(prune.statuses.includes('failed') ? ['retrying'] : ['retrying', 'failed']);
  const heads = streamHeads(tables.events);
  const doomed = examined.filter(
    (row) =>
      (prune.statuses as string[]).includes(row.status) &&
      !tables.deliveriesOf(row.id).some((delivery) => keptDeliveryStatuses.has(delivery.status)) &&
      !heads.has(row.id),
  );
  // As the SQL store's archive runs inside the batch's transaction: nothing is deleted when it rejects.
  if (doomed.length > 0 && prune.archive) {
    const inSequence = [...doomed].sort((a, b) => a.sequenceNumber - b.sequenceNumber);
    await prune.archive(inSequence.map((row) => toStoredEvent(row)));
  }
  tables.deleteEvents(new Set(doomed.map((row) => row.id)));
  const last = examined.at(-1);
  return {
    deleted: doomed.length,
    next:
      examined.length < prune.batchSize || last === undefined
        ? undefined
        : { timestamp: last.timestamp, sequenceNumber: last.sequenceNumber },
  };
}

function isAfter(row: EventRow, cursor: PruneCursor): boolean {
  const time = Date.parse(row.timestamp) - Date.parse(cursor.timestamp);
  return time > 0 || (time === 0 && row.sequenceNumber > cursor.sequenceNumber);
}

function byTimeThenSequence(a: EventRow, b: EventRow): number {
  return Date.parse(a.timestamp) - Date.parse(b.timestamp) || a.sequenceNumber - b.sequenceNumber;
}

/** The ids of the newest event of each (tenant, workflow) stream: rows are in sequence order, so the last one seen. */
function streamHeads(rows: readonly EventRow[]): Set<string> {
  const newest = new Map<string, string>();
  for (const row of rows) {
    const workflowId = workflowOf(row);
    if (workflowId !== undefined) newest.set(JSON.stringify([row.tenantId, workflowId]), row.id);
  }
  return new Set(newest.values());
}

function workflowOf(row: EventRow): string | undefined {
  if (row.metadataJson === null) return undefined;
  const { workflowId } = JSON.parse(row.metadataJson) as { workflowId?: unknown };
  return typeof workflowId === 'string' ? workflowId : undefined;
}
