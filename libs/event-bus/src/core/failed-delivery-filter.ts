import type { EventValidationIssue } from '../shared/errors.js';
import type { FailedDeliveryQuery } from './event-bus.js';
import { describeValue } from '../events/event-type.js';
import {
  checkEventType,
  checkUuid,
  checkWorkflowId,
  readFilter,
  throwIfInvalid,
} from '../store/event-filter.validation.js';

/** Handler names are at most 200 characters (subscription-manager.ts); the column holds 255. */
const MAX_HANDLER_FILTER_LENGTH = 255;

/** The largest page of failed deliveries one call returns. */
export const MAX_FAILED_DELIVERIES_LIMIT = 10_000;

/**
 * Checks the filter of `getFailedDeliveries` / `retryFailed` before any SQL: a given field that is
 * not a UUID, an event type, a workflow id or a handler name PostgreSQL can compare (a NUL byte, an
 * empty string) is an `EventValidationError` naming it, never a driver error or a filter quietly
 * meaning "every row". Paging (`limit`, `after`) is for listing only: `retryFailed` re-drives every
 * match, and refuses them rather than re-drive more than the caller meant.
 */
export function checkFailedDeliveryFilter(filter: unknown, { paging }: { paging: boolean }): void {
  if (filter === undefined) return;
  const issues: EventValidationIssue[] = [];
  if (typeof filter !== 'object' || filter === null || Array.isArray(filter)) {
    issues.push({ field: 'filter', message: `must be an object, got ${describeValue(filter)}` });
    throwIfInvalid(issues);
  }
  const given = filter as FailedDeliveryQuery;
  const eventId = readFilter('eventId', () => given.eventId);
  const handler = readFilter('handler', () => given.handler);
  const tenantId = readFilter('tenantId', () => given.tenantId);
  const eventType = readFilter('eventType', () => given.eventType);
  const workflowId = readFilter('workflowId', () => given.workflowId);
  const limit = readFilter('limit', () => given.limit);
  const after = readFilter('after', () => given.after);
  if (eventId !== undefined) checkUuid('eventId', eventId, issues);
  if (tenantId !== undefined) checkUuid('tenantId', tenantId, issues);
  if (handler !== undefined) checkHandler('handler', handler, issues);
  if (eventType !== undefined) checkEventType('eventType', eventType, issues);
  if (workflowId !== undefined) checkWorkflowId('workflowId', workflowId, issues);
  if (!paging) {
    for (const [field, value] of [
      ['limit', limit],
      ['after', after],
    ] as const) {
      if (value !== undefined) {
        issues.push({ field, message: 'pages getFailedDeliveries(); retryFailed() re-drives every match' });
      }
    }
    throwIfInvalid(issues);
    return;
  }
  if (limit !== undefined && !(Number.isSafeInteger(limit) && limit > 0 && limit <= MAX_FAILED_DELIVERIES_LIMIT)) {
    issues.push({
      field: 'limit',
      message: `must be an integer from 1 to ${MAX_FAILED_DELIVERIES_LIMIT}, got ${describeValue(limit)}`,
    });
  }
  if (after !== undefined) checkCursor(after, issues);
  throwIfInvalid(issues);
}

/** The cursor is the previous page's last item: its `failedAt`, `eventId` and `handler`. */
function checkCursor(after: unknown, issues: EventValidationIssue[]): void {
  if (typeof after !== 'object' || after === null) {
    issues.push({ field: 'after', message: `must be the last item of the previous page, got ${describeValue(after)}` });
    return;
  }
  const cursor = after as Record<string, unknown>;
  const failedAt = readFilter('after.failedAt', () => cursor.failedAt);
  checkUuid(
    'after.eventId',
    readFilter('after.eventId', () => cursor.eventId),
    issues,
  );
  checkHandler(
    'after.handler',
    readFilter('after.handler', () => cursor.handler),
    issues,
  );
  if (typeof failedAt !== 'string' || !ISO_INSTANT.test(failedAt) || Number.isNaN(Date.parse(failedAt))) {
    issues.push({
      field: 'after.failedAt',
      message: `must be an ISO-8601 instant as getFailedDeliveries() returns it, got ${describeValue(failedAt)}`,
    });
  }
}

/** What `toISOString()` writes (the `failedAt` the list returns), with or without milliseconds. */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

function checkHandler(field: string, handler: unknown, issues: EventValidationIssue[]): void {
  const problem = handlerProblem(handler);
  if (problem) issues.push({ field, message: problem });
}

function handlerProblem(handler: unknown): string | undefined {
  if (typeof handler !== 'string' || handler === '') {
    return `must be a non-empty string (a handler name), got ${describeValue(handler)}`;
  }
  if (handler.length > MAX_HANDLER_FILTER_LENGTH) {
    return `must be at most ${MAX_HANDLER_FILTER_LENGTH} characters (a handler name), got ${handler.length}`;
  }
  if (handler.includes('\u0000')) return "contains the character \\u0000, which PostgreSQL's text cannot store";
  return undefined;
}
