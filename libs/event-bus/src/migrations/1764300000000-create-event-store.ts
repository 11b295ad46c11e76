import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The `event_store` table: the original seed schema, plus what the library needs on top of it —
 * `metadata`, a sequence-backed unique `sequence_number`, the `transaction_id` used by gap-safe
 * readers, a CHECK on `status`, and one index per query shape.
 *
 * Ids come from the application (`crypto.randomUUID()`), so no uuid extension is needed.
 */
export class CreateEventStore1764300000000 implements MigrationInterface {
  name = 'CreateEventStore1764300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE SEQUENCE event_store_sequence_number_seq AS BIGINT`);
    await queryRunner.query(`
      CREATE TABLE event_store (
        id UUID PRIMARY KEY,
        event_type VARCHAR NOT NULL,
        tenant_id UUID NOT NULL,
        payload JSONB NOT NULL,
        timestamp TIMESTAMP WITH TIME ZONE NOT NULL,
        created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW() NOT NULL,
        sequence_number BIGINT NOT NULL DEFAULT nextval('event_store_sequence_number_seq'),
        job_id VARCHAR,
        workflow_id VARCHAR,
        status VARCHAR DEFAULT 'processed',
        metadata JSONB,
        -- The inserting transaction: readers that page by sequence_number only look below the
        -- oldest transaction still running, so a late commit can never be skipped.
        transaction_id XID8 NOT NULL DEFAULT pg_current_xact_id(),
        CONSTRAINT event_store_status_check CHECK (status IN ('pending', 'processing', 'processed', 'failed'))
      )`);
    await queryRunner.query(`ALTER SEQUENCE event_store_sequence_number_seq OWNED BY event_store.sequence_number`);

    // Keyset order of every reader and the stream.
    await queryRunner.query(`CREATE UNIQUE INDEX event_store_sequence_number_key ON event_store (sequence_number)`);
    // getEventsByType / query({ type }): equality on the type, then keyset by position.
    await queryRunner.query(
      `CREATE INDEX event_store_event_type_sequence_idx ON event_store (event_type, sequence_number)`,
    );
    // A tenant's events by time (replay and time-range reads of one tenant).
    await queryRunner.query(`CREATE INDEX event_store_tenant_timestamp_idx ON event_store (tenant_id, timestamp)`);
    // getEventsByTenant pages a tenant's events by position.
    await queryRunner.query(`CREATE INDEX event_store_tenant_sequence_idx ON event_store (tenant_id, sequence_number)`);
    // getEventsByWorkflowId; most events of other kinds carry no workflow, so the index skips them.
    await queryRunner.query(
      `CREATE INDEX event_store_workflow_sequence_idx ON event_store (workflow_id, sequence_number)
       WHERE workflow_id IS NOT NULL`,
    );
    // Looking an event up by its BullMQ job id.
    await queryRunner.query(`CREATE INDEX event_store_job_id_idx ON event_store (job_id) WHERE job_id IS NOT NULL`);
    // Replay and getEventsByTimeRange over every tenant.
    await queryRunner.query(`CREATE INDEX event_store_timestamp_idx ON event_store (timestamp)`);
    // The outbox relay: stored events not enqueued yet. Stays tiny, since rows leave it once enqueued.
    await queryRunner.query(
      `CREATE INDEX event_store_relay_pending_idx ON event_store (sequence_number)
       WHERE job_id IS NULL AND status = 'pending'`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // Dropping the table drops its indexes and the sequence it owns.
    await queryRunner.query(`DROP TABLE IF EXISTS event_store`);
    await queryRunner.query(`DROP SEQUENCE IF EXISTS event_store_sequence_number_seq`);
  }
}
