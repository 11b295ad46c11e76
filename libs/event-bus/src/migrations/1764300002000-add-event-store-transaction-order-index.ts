import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `event_store_transaction_sequence_idx (transaction_id, sequence_number)`: the keyset order of
 * `stream()` and replay, which page by that pair rather than by sequence number alone so that an
 * event whose transaction commits after a later-numbered one is never passed (see
 * libs/event-bus/src/store/typeorm/gap-safe-visibility.ts). Both columns only grow, so inserts land
 * at the right edge of the index. `xid8` has a btree operator class since PostgreSQL 13.
 *
 * `IF NOT EXISTS`: on a large table, build it first without blocking writes
 * (`CREATE INDEX CONCURRENTLY event_store_transaction_sequence_idx ON event_store (transaction_id,
 * sequence_number)`, which cannot run inside the migration's transaction); this migration then
 * finds it and only records itself.
 */
export class AddEventStoreTransactionOrderIndex1764300002000 implements MigrationInterface {
  name = 'AddEventStoreTransactionOrderIndex1764300002000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX IF NOT EXISTS event_store_transaction_sequence_idx ON event_store (transaction_id, sequence_number)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX IF EXISTS event_store_transaction_sequence_idx`);
  }
}
