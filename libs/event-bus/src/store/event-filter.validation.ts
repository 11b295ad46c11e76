import { EventValidationError } from '../errors.js';
import type { EventValidationIssue } from '../errors.js';
import { EVENT_STATUSES } from '../events/domain-event.js';
import type { EventStatus } from '../events/domain-event.js';
import { describeValue, eventTypeProblem } from '../events/event-type.js';
import { isUuid, normalizeUuid } from '../events/uuid.js';
import type { EventFilter, EventQueryOptions, EventStreamFilter } from './event-store.js';

/**
 * Checks of query arguments, before any SQL runs. Filters reach SQL only as parameters, but a
 * filter that is given and malformed (`tenantId: ''`, `null`, `"' OR 1=1 --"`) would otherwise
 * either fail inside PostgreSQL or, worse, quietly mean "every tenant".
 */

/** A filter whose every field was checked and normalized (UUIDs lower-cased, single values as arrays). */
export interface CheckedFilter {
  types?: string[];
  tenantId?: string;
  workflowId?: string;
  from?: Date;
  to?: Date;
  statuses?: EventStatus[];
  afterSequence?: number;
  limit?: number;
}

export const DEFAULT_STREAM_BATCH_SIZE = 1000;

export function checkQueryOptions(
  options: EventQueryOptions | undefined,
  issues: EventValidationIssue[],
): CheckedFilter {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null) {
    issues.push({ field: 'options', message: `must be an object, got ${describeValue(options)}` });
    return {};
  }
  const checked: CheckedFilter = {};
  if (options.tenantId !== undefined) checked.tenantId = checkUuid('tenantId', options.tenantId, issues);
  if (options.afterSequence !== undefined) {
    if (Number.isSafeInteger(options.afterSequence) && options.afterSequence >= 0)
      checked.afterSequence = options.afterSequence;
    else
      issues.push({
        field: 'afterSequence',
        message: `must be a non-negative integer, got ${show(options.afterSequence)}`,
      });
  }
  if (options.limit !== undefined) checked.limit = checkPositiveInteger('limit', options.limit, issues);
  return checked;
}

export function checkFilter(filter: EventFilter | undefined, issues: EventValidationIssue[]): CheckedFilter {
  const checked = checkQueryOptions(filter, issues);
  if (filter === undefined || typeof filter !== 'object' || filter === null) return checked;
  if (filter.type !== undefined) {
    const types = Array.isArray(filter.type) ? filter.type : [filter.type];
    // An empty list would silently match nothing; leave `type` out to mean every type.
    if (types.length === 0)
      issues.push({ field: 'type', message: 'must list at least one type (omit it for every type)' });
    types.forEach((type, index) =>
      checkEventType(Array.isArray(filter.type) ? `type[${index}]` : 'type', type, issues),
    );
    checked.types = types;
  }
  if (filter.workflowId !== undefined) checked.workflowId = checkWorkflowId('workflowId', filter.workflowId, issues);
  if (filter.from !== undefined) checked.from = checkDate('from', filter.from, issues);
  if (filter.to !== undefined) checked.to = checkDate('to', filter.to, issues);
  if (filter.status !== undefined) {
    const statuses = Array.isArray(filter.status) ? filter.status : [filter.status];
    if (statuses.length === 0) {
      issues.push({ field: 'status', message: 'must list at least one status (omit it for every status)' });
    }
    for (const status of statuses) {
      if (!EVENT_STATUSES.includes(status)) {
        issues.push({ field: 'status', message: `must be one of ${EVENT_STATUSES.join(', ')}, got ${show(status)}` });
      }
    }
    checked.statuses = statuses;
  }
  return checked;
}

export function checkBatchSize(filter: EventStreamFilter | undefined, issues: EventValidationIssue[]): number {
  if (filter?.batchSize === undefined) return DEFAULT_STREAM_BATCH_SIZE;
  return checkPositiveInteger('batchSize', filter.batchSize, issues) ?? DEFAULT_STREAM_BATCH_SIZE;
}

export function checkUuid(field: string, value: unknown, issues: EventValidationIssue[]): string | undefined {
  if (isUuid(value)) return normalizeUuid(value);
  issues.push({ field, message: `must be a UUID, got ${show(value)}` });
  return undefined;
}

export function checkEventType(field: string, value: unknown, issues: EventValidationIssue[]): string | undefined {
  const problem = eventTypeProblem(value);
  if (problem === undefined) return value as string;
  issues.push({ field, message: problem });
  return undefined;
}

export function checkWorkflowId(field: string, value: unknown, issues: EventValidationIssue[]): string | undefined {
  if (typeof value === 'string' && value !== '') return value;
  issues.push({ field, message: `must be a non-empty string, got ${show(value)}` });
  return undefined;
}

export function checkDate(field: string, value: unknown, issues: EventValidationIssue[]): Date | undefined {
  if (value instanceof Date && !Number.isNaN(value.getTime())) return value;
  issues.push({ field, message: value instanceof Date ? 'is an invalid Date' : `must be a Date, got ${show(value)}` });
  return undefined;
}

function checkPositiveInteger(field: string, value: unknown, issues: EventValidationIssue[]): number | undefined {
  if (Number.isSafeInteger(value) && (value as number) > 0) return value as number;
  issues.push({ field, message: `must be a positive integer, got ${show(value)}` });
  return undefined;
}

/** Throws the collected issues as one `EventValidationError`. */
export function throwIfInvalid(issues: EventValidationIssue[]): void {
  if (issues.length > 0) throw new EventValidationError(issues);
}

/** Short values are shown (they help); long ones and objects are only described. */
function show(value: unknown): string {
  if (typeof value === 'string')
    return value.length <= 40 ? JSON.stringify(value) : `a string of ${value.length} characters`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return describeValue(value);
}
