import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventBusMigrations } from '@app/event-bus/migrations';
import { CreateHandlerInbox1764300005000 } from '../../libs/event-bus/src/migrations/1764300005000-create-handler-inbox.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { TENANT_A } from './delivery-helpers.js';

describe('event_bus_inbox schema (the transactional handlers’ migration)', () => {
  let db: TestDatabase;
  let eventId: string;

  const insertRow = (event: string, handler: string) =>
    db.dataSource.query(`INSERT INTO event_bus_inbox (event_id, handler) VALUES ($1, $2)`, [event, handler]);

  beforeAll(async () => {
    db = await createTestDatabase('delivery-inbox-schema');
    const [row] = await db.dataSource.query<Array<{ id: string }>>(
      `INSERT INTO event_store (id, event_type, tenant_id, payload, timestamp, status)
       VALUES (gen_random_uuid(), 'a.b', $1, 'null', now(), 'pending') RETURNING id`,
      [TENANT_A],
    );
    eventId = row.id;
  });

  afterAll(() => db?.drop());

  it('keys a row by (event, handler), with the time it was done', async () => {
    await insertRow(eventId, 'H.one');
    await insertRow(eventId, 'H.two');
    await expect(insertRow(eventId, 'H.one')).rejects.toThrow(/event_bus_inbox_pkey/);
    await expect(insertRow(eventId, 'x'.repeat(201))).rejects.toThrow(/too long/);
    const rows = await db.dataSource.query<Array<{ done_at: Date }>>(
      `SELECT done_at FROM event_bus_inbox WHERE event_id = $1`,
      [eventId],
    );
    expect(rows).toEqual([{ done_at: expect.any(Date) }, { done_at: expect.any(Date) }]);
  });

  it('refuses a row of an unknown event, and goes with its event when that is deleted', async () => {
    await expect(
      db.dataSource.query(`INSERT INTO event_bus_inbox (event_id, handler) VALUES (gen_random_uuid(), 'H')`),
    ).rejects.toThrow(/foreign key/);
    await db.dataSource.query(`DELETE FROM event_store WHERE id = $1`, [eventId]);
    expect(await db.dataSource.query(`SELECT 1 FROM event_bus_inbox`)).toEqual([]);
  });

  it('is removed by its down migration', async () => {
    const newer = eventBusMigrations.length - 1 - eventBusMigrations.indexOf(CreateHandlerInbox1764300005000);
    for (let undone = 0; undone <= newer; undone++) {
      await db.dataSource.undoLastMigration({ transaction: 'all' });
    }
    const [found] = await db.dataSource.query<Array<{ name: string | null }>>(
      `SELECT to_regclass('event_bus_inbox')::text AS name`,
    );
    expect(found.name).toBeNull();
  });
});
