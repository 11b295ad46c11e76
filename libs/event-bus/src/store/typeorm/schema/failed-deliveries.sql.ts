import { EventValidationError } from '../../../shared/errors.js';
import { isUuid, normalizeUuid } from '../../../events/uuid.js';
import { storedEventColumns } from './stored-event.mapper.js';

/** The filter of failed deliveries, as the bus takes it (checked there before any SQL). */
export interface FailedFilter {
  eventId?: string;
  handler?: string;
  tenantId?: string;
}

/** The WHERE clause of failed records, from a whitelist of conditions; every value is a parameter. */
export function failedWhere(filter: FailedFilter): { where: string; params: unknown[] } {
  const conditions = [`d.status = 'failed'`];
  const params: unknown[] = [];
  if (filter.eventId !== undefined) {
    params.push(uuidFilter(filter.eventId, 'eventId'));
    conditions.push(`d.event_id = $${params.length}`);
  }
  if (filter.handler !== undefined) {
    if (typeof filter.handler !== 'string' || filter.handler === '') {
      throw new EventValidationError([{ field: 'handler', message: 'must be a non-empty string (a handler name)' }]);
    }
    params.push(filter.handler);
    conditions.push(`d.handler = $${params.length}`);
  }
  if (filter.tenantId !== undefined) {
    params.push(uuidFilter(filter.tenantId, 'tenantId'));
    conditions.push(`e.tenant_id = $${params.length}`);
  }
  return { where: conditions.join(' AND '), params };
}

/** Failed deliveries, oldest failure first. */
export function listFailedSql(where: string): string {
  return `SELECT d.event_id, d.handler, d.attempts, d.last_error, d.failed_at
    FROM event_handler_deliveries d JOIN event_store e ON e.id = d.event_id
    WHERE ${where}
    ORDER BY d.failed_at, d.event_id, d.handler`;
}

/** Where a re-drive draws the line: deliveries failing again after it are left for the next call. */
export const REDRIVE_CUTOFF_SQL = `SELECT clock_timestamp() AS cutoff`;

/**
 * Claims a batch of failed deliveries with their events (`FOR UPDATE SKIP LOCKED`, so concurrent
 * re-drives split the work). The last parameter is the cutoff.
 */
export function claimFailedSql(where: string, cutoffParam: number, limit: number): string {
  return `SELECT d.handler, d.run, d.job_id AS delivery_job_id, ${storedEventColumns('e')}
    FROM event_handler_deliveries d JOIN event_store e ON e.id = d.event_id
    WHERE ${where} AND d.failed_at <= $${cutoffParam}
    ORDER BY d.failed_at, d.event_id, d.handler
    LIMIT ${limit}
    FOR UPDATE OF d SKIP LOCKED`;
}

/** A given filter that is not a UUID is rejected before any SQL, never read as "every row". */
function uuidFilter(value: unknown, field: string): string {
  if (!isUuid(value)) throw new EventValidationError([{ field, message: 'must be a UUID' }]);
  return normalizeUuid(value);
}
