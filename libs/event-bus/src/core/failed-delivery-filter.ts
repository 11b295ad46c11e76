import type { EventValidationIssue } from '../shared/errors.js';
import type { FailedDeliveryFilter } from './event-bus.js';
import { describeValue } from '../events/event-type.js';
import { checkUuid, readFilter, throwIfInvalid } from '../store/event-filter.validation.js';

/** Handler names are at most 200 characters (subscription-manager.ts); the column holds 255. */
const MAX_HANDLER_FILTER_LENGTH = 255;

/**
 * Checks the filter of `getFailedDeliveries` / `retryFailed` before any SQL: a given field that is
 * not a UUID or a handler name PostgreSQL can compare (a NUL byte, an empty string) is an
 * `EventValidationError` naming it, never a driver error or a filter quietly meaning "every row".
 */
export function checkFailedDeliveryFilter(filter: unknown): void {
  if (filter === undefined) return;
  const issues: EventValidationIssue[] = [];
  if (typeof filter !== 'object' || filter === null || Array.isArray(filter)) {
    issues.push({ field: 'filter', message: `must be an object, got ${describeValue(filter)}` });
    throwIfInvalid(issues);
  }
  const given = filter as FailedDeliveryFilter;
  const eventId = readFilter('eventId', () => given.eventId);
  const handler = readFilter('handler', () => given.handler);
  const tenantId = readFilter('tenantId', () => given.tenantId);
  if (eventId !== undefined) checkUuid('eventId', eventId, issues);
  if (tenantId !== undefined) checkUuid('tenantId', tenantId, issues);
  if (handler !== undefined) {
    const problem = handlerProblem(handler);
    if (problem) issues.push({ field: 'handler', message: problem });
  }
  throwIfInvalid(issues);
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
