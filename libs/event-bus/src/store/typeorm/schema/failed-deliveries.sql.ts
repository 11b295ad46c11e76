import { EventValidationError } from '../../../shared/errors.js';
import { isUuid, normalizeUuid } from '../../../events/uuid.js';
import { storedEventColumns } from './stored-event.mapper.js';

/** The filter of failed deliveries, as the bus takes it (checked there before any SQL). */
export interface FailedFilter {
  eventId?: string;
  handler?: string;
  tenantId?: string;
  eventType?: string;
  workflowId?: string;
}

/** Keyset paging of the list: the previous page's last item, and the page size. */
export interface FailedPage {
  after?: { failedAt: string; eventId: string; handler: string };
  limit?: number;
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
  if (filter.eventType !== undefined) {
    params.push(filter.eventType);
    conditions.push(`e.event_type = $${params.length}`);
  }
  if (filter.workflowId !== undefined) {
    params.push(filter.workflowId);
    conditions.push(`e.workflow_id = $${params.length}`);
  }
  return { where: conditions.join(' AND '), params };
}

/**
 * Failed deliveries, oldest failure first, from the previous page's last item on (keyset, in the
 * order of the failed index). `failed_at` has microseconds and the cursor's `failedAt` only the
 * milliseconds the list returned, so the cursor row's exact `failed_at` is looked up by its key;
 * were it re-driven meanwhile, its milliseconds stand in (at most repeating rows of that
 * millisecond, never skipping one). Appends its parameters to `params`.
 */
export function listFailedSql(where: string, params: unknown[], page: FailedPage = {}): string {
  let keyset = '';
  if (page.after) {
    params.push(page.after.failedAt, uuidFilter(page.after.eventId, 'after.eventId'), page.after.handler);
    const [t, e, h] = [params.length - 2, params.length - 1, params.length];
    const exact = `(SELECT c.failed_at FROM event_handler_deliveries c
        WHERE c.event_id = $${e} AND c.handler = $${h} AND c.status = 'failed'
          AND c.failed_at >= $${t}::timestamptz AND c.failed_at < $${t}::timestamptz + interval '1 millisecond')`;
    keyset = ` AND d.failed_at >= $${t}::timestamptz
      AND (d.failed_at, d.event_id, d.handler) > (COALESCE(${exact}, $${t}::timestamptz), $${e}::uuid, $${h})`;
  }
  let limit = '';
  if (page.limit !== undefined) {
    params.push(page.limit);
    limit = ` LIMIT $${params.length}`;
  }
  return `SELECT d.event_id, d.handler, d.attempts, d.last_error, d.failed_at
    FROM event_handler_deliveries d JOIN event_store e ON e.id = d.event_id
    WHERE ${where}${keyset}
    ORDER BY d.failed_at, d.event_id, d.handler${limit}`;
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
