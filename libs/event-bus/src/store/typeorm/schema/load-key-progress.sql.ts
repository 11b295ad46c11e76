/** The progress of some partition keys of a handler. `$1`: handler; `$2`: tenants; `$3`: workflows ('' for none). */
export const LOAD_KEY_PROGRESS_SQL = `
  SELECT k.tenant_id, k.workflow_id, k.version, k.transaction_id::text AS transaction_id, k.sequence_number,
    k.blocked_event_id
  FROM unnest($2::uuid[], $3::varchar[]) AS wanted (tenant_id, workflow_id)
  JOIN event_bus_ordered_keys k
    ON k.handler = $1 AND k.tenant_id = wanted.tenant_id AND k.workflow_id = wanted.workflow_id`;
