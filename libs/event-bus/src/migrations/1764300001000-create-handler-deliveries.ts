import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `event_handler_deliveries`: one row per (event, handler) whose delivery failed at least once.
 * Written only when something fails or is retried, never on the happy path, so it stays small.
 *
 * - `status`: `retrying` while a handler job owns the delivery, then `succeeded` or `failed`.
 *   An event is finished when none of its rows is `retrying` (`failed` if any row is `failed`).
 * - `run` counts re-drives (`retryFailed`); `job_id` is the BullMQ job that owns the current run,
 *   so a stale job of an older run can never overwrite the row.
 */
export class CreateHandlerDeliveries1764300001000 implements MigrationInterface {
  name = 'CreateHandlerDeliveries1764300001000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE event_handler_deliveries (
        event_id UUID NOT NULL REFERENCES event_store (id) ON DELETE CASCADE,
        handler VARCHAR(255) NOT NULL,
        status VARCHAR NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        failed_at TIMESTAMP WITH TIME ZONE,
        run INTEGER NOT NULL DEFAULT 0,
        job_id VARCHAR,
        updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
        CONSTRAINT event_handler_deliveries_pkey PRIMARY KEY (event_id, handler),
        CONSTRAINT event_handler_deliveries_status_check CHECK (status IN ('retrying', 'succeeded', 'failed'))
      )`);
    // getFailedDeliveries / retryFailed: the failed ones by time. Partial, so it holds only dead letters.
    await queryRunner.query(
      `CREATE INDEX event_handler_deliveries_failed_idx ON event_handler_deliveries (failed_at, event_id)
       WHERE status = 'failed'`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE IF EXISTS event_handler_deliveries`);
  }
}
