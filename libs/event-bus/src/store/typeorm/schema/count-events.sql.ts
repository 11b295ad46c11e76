import type { CheckedFilter } from '../../event-filter.validation.js';
import { filterConditions, where, type SqlQuery } from './event-query.sql.js';

/**
 * `count()`: how many committed events match a filter (its `limit` ignored). A plain read, not
 * gap-safe: a total for a progress bar or a report, never a position to page from.
 */
export function buildEventCount(filter: CheckedFilter): SqlQuery {
  const params: unknown[] = [];
  const param = (value: unknown): string => `$${params.push(value)}`;
  const conditions = filterConditions({ ...filter, limit: undefined }, param);
  return { sql: `SELECT count(*)::text AS count FROM event_store${where(conditions)}`, params };
}
