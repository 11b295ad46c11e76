import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `event_bus_inbox`: one row per (event, handler) that a transactional handler has handled. The row
 * is written in the handler's own transaction, together with what the handler wrote through
 * `context.manager`, so a repeated delivery (a stalled or crashed job, a re-drive) finds it and does
 * not call the handler again. Rows go with their event (`ON DELETE CASCADE`).
 */
export class CreateHandlerInbox1764300005000 implements MigrationInterface {
  name = 'CreateHandlerInbox1764300005000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE event_bus_inbox (
        event_id UUID NOT NULL REFERENCES event_store (id) ON DELETE CASCADE,
        handler VARCHAR(200) NOT NULL,
        done_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
        CONSTRAINT event_bus_inbox_pkey PRIMARY KEY (event_id, handler)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE IF EXISTS event_bus_inbox`);
  }
}
