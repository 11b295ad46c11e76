import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every delivered event has its `status` updated (and `job_id` once, when it is enqueued). PostgreSQL
 * can do such an update in place (a HOT update: no new entry in any index) only when no index covers
 * or filters on a changed column and the page has room for the new row version. The relay's partial
 * index filtered on `status`, so every status change rewrote an entry in every index of the table.
 *
 * - The relay's index now filters on `job_id IS NULL` alone (it still serves the relay's query, which
 *   adds `status = 'pending'` as a filter on the few rows the index holds), so status changes are HOT.
 * - A fill factor below 100 leaves room in each page for the updated row versions of its events.
 */
export class MakeStatusUpdatesHot1764300003000 implements MigrationInterface {
  name = 'MakeStatusUpdatesHot1764300003000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX IF EXISTS event_store_relay_pending_idx`);
    await queryRunner.query(
      `CREATE INDEX event_store_relay_unenqueued_idx ON event_store (sequence_number) WHERE job_id IS NULL`,
    );
    // Applies to pages written from now on; `VACUUM FULL` (or pg_repack) rewrites older ones if wanted.
    await queryRunner.query(`ALTER TABLE event_store SET (fillfactor = 80)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE event_store RESET (fillfactor)`);
    await queryRunner.query(`DROP INDEX IF EXISTS event_store_relay_unenqueued_idx`);
    await queryRunner.query(
      `CREATE INDEX event_store_relay_pending_idx ON event_store (sequence_number)
       WHERE job_id IS NULL AND status = 'pending'`,
    );
  }
}
