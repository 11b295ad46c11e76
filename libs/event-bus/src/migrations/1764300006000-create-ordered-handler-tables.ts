import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Ordered handlers (DESIGN.md 6.6):
 *
 * - `event_bus_ordered_checkpoints`: one row per (handler, bucket). The checkpoint is a commit-safe
 *   position (`transaction_id`, `sequence_number`; `0, 0` is before every event). `owner`,
 *   `lease_until` and `epoch` are the bucket's lease: a process owns the bucket's keys while its lease
 *   runs, and `epoch` rises whenever the bucket changes hands, fencing the writes of a former owner.
 * - `event_bus_ordered_keys`: one row per (handler, partition key) that handled something: its last
 *   version and position, so a new owner reading from the bucket's checkpoint skips what the key has
 *   done already (keys finish out of log order), and whether it is blocked; `parked` counts the
 *   events it gave up on.
 * - `event_bus_ordered_members`: the processes running each ordered handler, with a heartbeat, so
 *   each can take its fair share of the buckets (the bucket count over the live members) and give
 *   back what it holds beyond it.
 * - A statement trigger on `event_store` wakes idle ordered readers: `pg_notify` is delivered when the
 *   appending transaction commits, the moment its events can become readable. Only while some ordered
 *   handler exists (a checkpoint row): a notifying commit takes PostgreSQL's notify-queue lock, which
 *   an app without ordered handlers should not pay for.
 */
export class CreateOrderedHandlerTables1764300006000 implements MigrationInterface {
  name = 'CreateOrderedHandlerTables1764300006000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE event_bus_ordered_checkpoints (
        handler varchar(200) NOT NULL,
        bucket smallint NOT NULL,
        transaction_id xid8 NOT NULL DEFAULT '0',
        sequence_number bigint NOT NULL DEFAULT 0,
        owner varchar(200),
        lease_until timestamptz,
        epoch integer NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (handler, bucket)
      )`);
    await queryRunner.query(`
      CREATE TABLE event_bus_ordered_keys (
        handler varchar(200) NOT NULL,
        tenant_id uuid NOT NULL,
        workflow_id varchar NOT NULL,
        version bigint,
        transaction_id xid8 NOT NULL,
        sequence_number bigint NOT NULL,
        blocked_event_id uuid,
        parked integer NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (handler, tenant_id, workflow_id)
      )`);
    await queryRunner.query(`
      CREATE TABLE event_bus_ordered_members (
        handler varchar(200) NOT NULL,
        owner varchar(200) NOT NULL,
        seen_until timestamptz NOT NULL,
        PRIMARY KEY (handler, owner)
      )`);
    await queryRunner.query(`
      CREATE FUNCTION event_bus_notify_appended() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF EXISTS (SELECT FROM event_bus_ordered_checkpoints) THEN
          PERFORM pg_notify('event_bus_appended', '');
        END IF;
        RETURN NULL;
      END $$`);
    await queryRunner.query(`
      CREATE TRIGGER event_bus_notify_appended AFTER INSERT ON event_store
      FOR EACH STATEMENT EXECUTE FUNCTION event_bus_notify_appended()`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER IF EXISTS event_bus_notify_appended ON event_store`);
    await queryRunner.query(`DROP FUNCTION IF EXISTS event_bus_notify_appended()`);
    await queryRunner.query(`DROP TABLE IF EXISTS event_bus_ordered_members`);
    await queryRunner.query(`DROP TABLE IF EXISTS event_bus_ordered_keys`);
    await queryRunner.query(`DROP TABLE IF EXISTS event_bus_ordered_checkpoints`);
  }
}
