/**
 * `record-key-progress.sql.ts`'s `done` for many keys of one handler at once (plain ordered handlers
 * record their progress after each call; one statement serves every key that finished meanwhile).
 * Each key appears once: a key has one event in flight at a time. Answers the keys whose lease the
 * owner held (the others were taken from it: their progress is the new owner's to write).
 * `$1`: handler; `$2`: owner; `$3`…`$9`: bucket, epoch, tenant, workflow, version, position per key.
 */
export const RECORD_KEYS_DONE_SQL = `
  WITH input AS (
    SELECT * FROM unnest($3::int[], $4::int[], $5::uuid[], $6::varchar[], $7::bigint[], $8::text[], $9::bigint[])
      AS i (bucket, epoch, tenant_id, workflow_id, version, transaction_id, sequence_number)
  ), leased AS (
    SELECT input.* FROM input
    JOIN event_bus_ordered_checkpoints c
      ON c.handler = $1 AND c.bucket = input.bucket AND c.owner = $2 AND c.epoch = input.epoch
    FOR SHARE OF c
  ), moved AS (
    INSERT INTO event_bus_ordered_keys AS k
      (handler, tenant_id, workflow_id, version, transaction_id, sequence_number, blocked_event_id, parked)
    SELECT $1, tenant_id, workflow_id, version, transaction_id::xid8, sequence_number, NULL, 0 FROM leased
    ON CONFLICT (handler, tenant_id, workflow_id) DO UPDATE SET
      version = EXCLUDED.version, transaction_id = EXCLUDED.transaction_id,
      sequence_number = EXCLUDED.sequence_number, blocked_event_id = NULL, updated_at = now()
    WHERE CASE
      WHEN EXCLUDED.version IS NOT NULL AND k.version IS NOT NULL THEN k.version < EXCLUDED.version
      ELSE (k.transaction_id, k.sequence_number) < (EXCLUDED.transaction_id, EXCLUDED.sequence_number)
    END
    RETURNING 1
  )
  SELECT coalesce(array_agg(tenant_id::text || '/' || workflow_id), '{}') AS leased, (SELECT count(*) FROM moved) AS moved
  FROM leased`;
