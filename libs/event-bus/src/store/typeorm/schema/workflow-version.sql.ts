/**
 * A stream's last version, 0 when it has none: one step down `event_store_workflow_version_idx`.
 * `$1`: tenant id; `$2`: workflow id.
 */
export const WORKFLOW_VERSION_SQL = `
  SELECT coalesce(max(version), 0) AS version FROM event_store WHERE tenant_id = $1::uuid AND workflow_id = $2`;

/**
 * The last version of a workflow id's stream in each tenant that has one, at most two rows: enough to
 * tell whether the id is ambiguous without a tenant. `$1`: workflow id.
 */
export const WORKFLOW_VERSIONS_ANY_TENANT_SQL = `
  SELECT tenant_id, max(version) AS version FROM event_store WHERE workflow_id = $1
  GROUP BY tenant_id ORDER BY tenant_id LIMIT 2`;
