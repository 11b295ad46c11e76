import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `event_store.version`: an event's 1-based, gapless position in its workflow's stream
 * (`tenant_id`, `workflow_id`); NULL for an event without a workflow. Appends number their rows
 * inside the INSERT (schema/insert-events.sql.ts), and the unique index decides between concurrent
 * appends to one stream: the second one to take a version fails and is retried (or, with an
 * expected version, rejected). The index also serves reads of a stream in version order and the
 * lookup of a stream's current version (one step down the index).
 *
 * Existing rows are numbered in `sequence_number` order, which is the order they were appended in.
 * On a large table the backfill UPDATE rewrites every row with a workflow id in one transaction;
 * `IF NOT EXISTS` on the index lets an operator build it first with `CREATE UNIQUE INDEX
 * CONCURRENTLY` (after backfilling in slices) and have this migration only record itself.
 */
export class AddEventVersions1764300004000 implements MigrationInterface {
  name = 'AddEventVersions1764300004000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE event_store ADD COLUMN IF NOT EXISTS version bigint NULL`);
    await queryRunner.query(
      `UPDATE event_store AS event SET version = numbered.version
       FROM (
         SELECT id, row_number() OVER (PARTITION BY tenant_id, workflow_id ORDER BY sequence_number) AS version
         FROM event_store WHERE workflow_id IS NOT NULL
       ) AS numbered
       WHERE event.id = numbered.id AND event.version IS DISTINCT FROM numbered.version`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX IF NOT EXISTS event_store_workflow_version_idx
       ON event_store (tenant_id, workflow_id, version) WHERE workflow_id IS NOT NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX IF EXISTS event_store_workflow_version_idx`);
    await queryRunner.query(`ALTER TABLE event_store DROP COLUMN IF EXISTS version`);
  }
}
