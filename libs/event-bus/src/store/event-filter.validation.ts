import { EventValidationError } from '../shared/errors.js';
import type { EventValidationIssue } from '../shared/errors.js';
import { EVENT_STATUSES } from '../events/domain-event.js';
import type { EventStatus } from '../events/domain-event.js';
import { dateProblem } from '../events/event-timestamp.js';
import { describeValue, eventTypeProblem } from '../events/event-type.js';
import { unreadable } from '../events/json-value.js';
import { isUuid, normalizeUuid } from '../events/uuid.js';
import { workflowIdProblem } from '../events/workflow-id.js';
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
  const tenantId = readFilter('tenantId', () => options.tenantId);
  const afterSequence = readFilter('afterSequence', () => options.afterSequence);
  const limit = readFilter('limit', () => options.limit);
  if (tenantId !== undefined) checked.tenantId = checkUuid('tenantId', tenantId, issues);
  if (afterSequence !== undefined) {
    if (Number.isSafeInteger(afterSequence) && afterSequence >= 0) checked.afterSequence = afterSequence;
    else
      issues.push({
        field: 'afterSequence',
        message: `must be a non-negative integer, got ${show(afterSequence)}`,
      });
  }
  if (limit !== undefined) checked.limit = checkPositiveInteger('limit', limit, issues);
  return checked;
}

export function checkFilter(filter: EventFilter | undefined, issues: EventValidationIssue[]): CheckedFilter {
  const checked = checkQueryOptions(filter, issues);
  if (filter === undefined || typeof filter !== 'object' || filter === null) return checked;
  // Lists are copied: each is read once, so what is checked is what reaches the SQL.
  const type = readFilter('type', () => {
    const given: unknown = filter.type;
    return Array.isArray(given) ? { types: [...(given as unknown[])], list: true } : { types: [given], list: false };
  });
  const workflowId = readFilter('workflowId', () => filter.workflowId);
  const from = readFilter('from', () => filter.from);
  const to = readFilter('to', () => filter.to);
  const status = readFilter('status', () => {
    const given = filter.status;
    return Array.isArray(given) ? [...(given as unknown[])] : given;
  });
  if (type.list || type.types[0] !== undefined) {
    // An empty list would silently match nothing; leave `type` out to mean every type.
    if (type.types.length === 0)
      issues.push({ field: 'type', message: 'must list at least one type (omit it for every type)' });
    type.types.forEach((entry, index) => checkEventType(type.list ? `type[${index}]` : 'type', entry, issues));
    checked.types = type.types as string[];
  }
  if (workflowId !== undefined) checked.workflowId = checkWorkflowId('workflowId', workflowId, issues);
  if (from !== undefined) checked.from = checkDate('from', from, issues);
  if (to !== undefined) checked.to = checkDate('to', to, issues);
  if (status !== undefined) {
    const statuses = (Array.isArray(status) ? status : [status]) as EventStatus[];
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
  const batchSize = readFilter('batchSize', () => filter?.batchSize);
  if (batchSize === undefined) return DEFAULT_STREAM_BATCH_SIZE;
  return checkPositiveInteger('batchSize', batchSize, issues) ?? DEFAULT_STREAM_BATCH_SIZE;
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
  const problem = workflowIdProblem(value);
  if (problem === undefined) return value as string;
  issues.push({
    field,
    message: typeof value === 'string' && value !== '' ? problem : `must be a non-empty string, got ${show(value)}`,
  });
  return undefined;
}

/** A `Date` PostgreSQL can compare (years 1 to 9999); a copy, so a later change of the caller's object cannot reach the SQL. */
export function checkDate(field: string, value: unknown, issues: EventValidationIssue[]): Date | undefined {
  const date = readFilter(field, () => (value instanceof Date ? new Date(value.getTime()) : undefined));
  const problem = date ? dateProblem(date) : `must be a Date, got ${show(value)}`;
  if (problem === undefined) return date;
  issues.push({ field, message: problem });
  return undefined;
}

/**
 * Reads part of a filter; a getter or Proxy trap that throws is an `EventValidationError` naming
 * `field`, with the thrown error as its cause.
 */
export function readFilter<T>(field: string, reading: () => T): T {
  try {
    return reading();
  } catch (error) {
    throw unreadable(field, error);
  }
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
export function show(value: unknown): string {
  if (typeof value === 'string')
    return value.length <= 40 ? JSON.stringify(value) : `a string of ${value.length} characters`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return describeValue(value);
}
