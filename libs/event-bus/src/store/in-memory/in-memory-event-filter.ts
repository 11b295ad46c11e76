import type { EventValidationIssue } from '../../shared/errors.js';
import type { StoredEvent } from '../../events/domain-event.js';
import type { CheckedFilter } from '../event-filter.validation.js';
import { readFilter } from '../event-filter.validation.js';
import type { EventStreamFilter } from '../event-store.js';

/**
 * What the SQL of the TypeORM store does with a checked filter (event-query.sql.ts), as a predicate
 * on one stored event. `afterSequence` and `limit` are the caller's: they depend on order.
 */
export function matchesFilter(event: StoredEvent, filter: CheckedFilter): boolean {
  if (filter.types && !filter.types.includes(event.type)) return false;
  if (filter.tenantId !== undefined && event.tenantId !== filter.tenantId) return false;
  if (filter.workflowId !== undefined && event.metadata?.workflowId !== filter.workflowId) return false;
  const time = Date.parse(event.timestamp);
  if (filter.from && time < filter.from.getTime()) return false;
  if (filter.to && time >= filter.to.getTime()) return false;
  if (filter.statuses && !filter.statuses.includes(event.status)) return false;
  if (filter.afterSequence !== undefined && event.sequenceNumber <= filter.afterSequence) return false;
  return true;
}

/**
 * `catchUpTimeoutMs` checked as the TypeORM store checks it. An in-memory stream never waits (every
 * event is visible at once), but a value that store refuses is refused here too.
 */
export function checkCatchUpTimeout(filter: EventStreamFilter | undefined, issues: EventValidationIssue[]): void {
  const value: unknown = readFilter('catchUpTimeoutMs', () => filter?.catchUpTimeoutMs);
  if (value === undefined || (typeof value === 'number' && value >= 0)) return;
  issues.push({
    field: 'catchUpTimeoutMs',
    message: `must be a non-negative number of milliseconds, got ${typeof value === 'number' ? value : typeof value}`,
  });
}
