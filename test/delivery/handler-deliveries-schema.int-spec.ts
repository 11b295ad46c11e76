import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { eventBusMigrations } from '@app/event-bus/migrations';
import { CreateHandlerDeliveries1764300001000 } from '../../libs/event-bus/src/migrations/1764300001000-create-handler-deliveries.js';
import { TENANT_A } from './delivery-helpers.js';

describe('event_handler_deliveries schema (migration 2)', () => {
  let db: TestDatabase;
  let eventId: string;

  const insertRecord = (handler: string, status: string) =>
    db.dataSource.query(`INSERT INTO event_handler_deliveries (event_id, handler, status) VALUES ($1, $2, $3)`, [
      eventId,
      handler,
      status,
    ]);

  beforeAll(async () => {
    db = await createTestDatabase('delivery-schema');
    const [row] = await db.dataSource.query<Array<{ id: string }>>(
      `INSERT INTO event_store (id, event_type, tenant_id, payload, timestamp, status)
       VALUES (gen_random_uuid(), 'a.b', $1, 'null', now(), 'pending') RETURNING id`,
      [TENANT_A],
    );
    eventId = row.id;
  });

  afterAll(() => db?.drop());

  it('keys a record by (event, handler), and knows only retrying, succeeded and failed', async () => {
    await insertRecord('H.one', 'retrying');
    await expect(insertRecord('H.one', 'failed')).rejects.toThrow(/event_handler_deliveries_pkey/);
    await expect(insertRecord('H.two', 'pending')).rejects.toThrow(/event_handler_deliveries_status_check/);
    const [record] = await db.dataSource.query<Array<{ attempts: number; run: number; updated_at: Date }>>(
      `SELECT attempts, run, updated_at FROM event_handler_deliveries WHERE event_id = $1`,
      [eventId],
    );
    expect(record).toEqual({ attempts: 0, run: 0, updated_at: expect.any(Date) });
  });

  it('refuses a record of an unknown event, and goes with its event when that is deleted', async () => {
    await expect(
      db.dataSource.query(
        `INSERT INTO event_handler_deliveries (event_id, handler, status) VALUES (gen_random_uuid(), 'H', 'failed')`,
      ),
    ).rejects.toThrow(/foreign key/);
    await db.dataSource.query(`DELETE FROM event_store WHERE id = $1`, [eventId]);
    expect(await db.dataSource.query(`SELECT 1 FROM event_handler_deliveries`)).toEqual([]);
  });

  it('has a partial index for listing failed deliveries by time', async () => {
    const [index] = await db.dataSource.query<Array<{ indexdef: string }>>(
      `SELECT indexdef FROM pg_indexes WHERE indexname = 'event_handler_deliveries_failed_idx'`,
    );
    expect(index?.indexdef).toMatch(/\(failed_at, event_id\) WHERE \(\(status\)::text = 'failed'::text\)/);
  });

  it('is removed by its down migration, leaving the event store', async () => {
    // Undo the migrations applied after this one first, then this one.
    const newer = eventBusMigrations.length - 1 - eventBusMigrations.indexOf(CreateHandlerDeliveries1764300001000);
    for (let undone = 0; undone <= newer; undone++) {
      await db.dataSource.undoLastMigration({ transaction: 'all' });
    }
    const tables = await db.dataSource.query<Array<{ table_name: string }>>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name LIKE 'event_%'`,
    );
    expect(tables.map((table) => table.table_name)).toEqual(['event_store']);
  });
});
