import type { EventValidationIssue } from '../shared/errors.js';
import type { StoredEvent } from '../events/domain-event.js';
import { describeValue } from '../events/event-type.js';
import { checkDate, readFilter, show, throwIfInvalid } from './event-filter.validation.js';
import type { FinishedEventStatus, PruneOptions } from './event-store.js';

/** Events examined per batch when `batchSize` is not given. */
export const DEFAULT_PRUNE_BATCH_SIZE = 1000;
/**
 * The largest batch: one batch is one transaction, and a transaction holds back every gap-safe
 * reader (stream, replay) until it commits, so it must stay short whatever the caller asks.
 */
export const MAX_PRUNE_BATCH_SIZE = 10_000;

const FINISHED_STATUSES: readonly FinishedEventStatus[] = ['processed', 'failed'];

/** `PruneOptions`, every field checked and read once. */
export interface CheckedPrune {
  before: Date;
  statuses: FinishedEventStatus[];
  batchSize: number;
  signal?: AbortSignal;
  archive?: (events: StoredEvent[]) => Promise<void>;
}

/** Checks the arguments of `prune` before any SQL runs; every problem at once, as `EventValidationError`. */
export function checkPruneOptions(options: PruneOptions | undefined): CheckedPrune {
  const issues: EventValidationIssue[] = [];
  if (typeof options !== 'object' || options === null) {
    throwIfInvalid([
      { field: 'options', message: `must be an object with before (a Date), got ${describeValue(options)}` },
    ]);
  }
  const given = options as PruneOptions;
  const before = readFilter('before', () => given.before);
  const status = readFilter('status', () =>
    Array.isArray(given.status) ? [...(given.status as unknown[])] : given.status,
  );
  const batchSize = readFilter('batchSize', () => given.batchSize);
  const signal = readFilter('signal', () => given.signal);
  const archive = readFilter('archive', () => given.archive);

  const checked: CheckedPrune = {
    before: before === undefined ? missingBefore(issues) : (checkDate('before', before, issues) ?? new Date(0)),
    statuses: checkStatuses(status, issues),
    batchSize: DEFAULT_PRUNE_BATCH_SIZE,
  };
  if (batchSize !== undefined) {
    if (Number.isSafeInteger(batchSize) && batchSize > 0 && batchSize <= MAX_PRUNE_BATCH_SIZE) {
      checked.batchSize = batchSize;
    } else {
      issues.push({
        field: 'batchSize',
        message: `must be an integer from 1 to ${MAX_PRUNE_BATCH_SIZE}, got ${show(batchSize)}`,
      });
    }
  }
  if (signal !== undefined) {
    if (signal instanceof AbortSignal) checked.signal = signal;
    else issues.push({ field: 'signal', message: `must be an AbortSignal, got ${describeValue(signal)}` });
  }
  if (archive !== undefined) {
    if (typeof archive === 'function') checked.archive = archive;
    else issues.push({ field: 'archive', message: `must be a function, got ${describeValue(archive)}` });
  }
  throwIfInvalid(issues);
  return checked;
}

function missingBefore(issues: EventValidationIssue[]): Date {
  issues.push({ field: 'before', message: 'is required: a Date; events whose timestamp is before it are deleted' });
  return new Date(0);
}

/** Finished statuses only: deleting an unfinished event would lose a delivery the library promised. */
function checkStatuses(status: unknown, issues: EventValidationIssue[]): FinishedEventStatus[] {
  if (status === undefined) return ['processed'];
  const statuses = Array.isArray(status) ? (status as unknown[]) : [status];
  if (statuses.length === 0) {
    issues.push({ field: 'status', message: "must list at least one of processed, failed (omit it for 'processed')" });
  }
  for (const entry of statuses) {
    if (!FINISHED_STATUSES.includes(entry as FinishedEventStatus)) {
      issues.push({
        field: 'status',
        message: `must be processed or failed (unfinished events are never pruned), got ${show(entry)}`,
      });
    }
  }
  return [...new Set(statuses as FinishedEventStatus[])];
}
