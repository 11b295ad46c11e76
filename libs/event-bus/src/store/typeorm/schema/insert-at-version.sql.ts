import { storedEventColumns } from './stored-event.mapper.js';
import { freshInputCte, insertSelect, type ExistingIds } from './insert-events.sql.js';

/**
 * The INSERT of `publish(…, { expectedVersion })`: the batch (one workflow's events, `$1`–`$7` as in
 * insert-events.sql.ts) is appended at versions `expected + 1, …` only if the stream's last version
 * is `expected` (`$8` tenant, `$9` workflow, `$10` expected version); otherwise it inserts nothing.
 * Every result row carries the version the statement saw (`current_version`), and the LEFT JOIN
 * keeps one row, with a null `id`, when nothing was inserted: the store then knows the actual version
 * without another round trip. A concurrent writer that took `expected + 1` first makes this statement
 * wait for its commit and fail on `event_store_workflow_version_idx`: exactly one of them wins.
 */
export function buildInsertAtVersion(existing: ExistingIds): string {
  return (
    `WITH ${freshInputCte(existing)}, ` +
    `current AS (SELECT coalesce(max(version), 0) AS version FROM event_store WHERE tenant_id = $8::uuid AND workflow_id = $9), ` +
    `inserted AS (` +
    insertSelect(`$10::bigint + row_number() OVER (ORDER BY fresh.position)`) +
    ` FROM fresh WHERE (SELECT version FROM current) = $10::bigint ORDER BY fresh.position ` +
    (existing === 'skip' ? 'ON CONFLICT (id) DO NOTHING ' : '') +
    `RETURNING ${storedEventColumns()}) ` +
    `SELECT current.version AS current_version, inserted.* FROM current LEFT JOIN inserted ON true`
  );
}
