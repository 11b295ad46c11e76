import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { buildEventSelect } from '../../libs/event-bus/src/store/typeorm/schema/event-query.sql.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { TENANT_A } from './store-fixtures.js';

describe('event_store schema (migration 1)', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('store-schema');
  });
  afterAll(() => db.drop());

  it('has the original columns with their types, plus metadata, transaction_id and version', async () => {
    const columns = await db.dataSource.query<
      { column_name: string; data_type: string; is_nullable: string; column_default: string | null }[]
    >(
      `SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns
       WHERE table_name = 'event_store' ORDER BY ordinal_position`,
    );
    expect(columns.map((c) => [c.column_name, c.data_type, c.is_nullable])).toEqual([
      ['id', 'uuid', 'NO'],
      ['event_type', 'character varying', 'NO'],
      ['tenant_id', 'uuid', 'NO'],
      ['payload', 'jsonb', 'NO'],
      ['timestamp', 'timestamp with time zone', 'NO'],
      ['created_at', 'timestamp with time zone', 'NO'],
      ['sequence_number', 'bigint', 'NO'],
      ['job_id', 'character varying', 'YES'],
      ['workflow_id', 'character varying', 'YES'],
      ['status', 'character varying', 'YES'],
      ['metadata', 'jsonb', 'YES'],
      ['transaction_id', 'xid8', 'NO'],
      ['version', 'bigint', 'YES'],
    ]);
    const defaults = Object.fromEntries(columns.map((c) => [c.column_name, c.column_default]));
    expect(defaults.sequence_number).toContain("nextval('event_store_sequence_number_seq'");
    expect(defaults.status).toContain("'processed'");
    expect(defaults.created_at).toBe('now()');
    expect(defaults.transaction_id).toBe('pg_current_xact_id()');
  });

  it('rejects an unknown status and a duplicate sequence number', async () => {
    const insert = (status: string, sequence?: number): Promise<unknown> =>
      db.dataSource.query(
        `INSERT INTO event_store (id, event_type, tenant_id, payload, timestamp, status${sequence ? ', sequence_number' : ''})
         VALUES (gen_random_uuid(), 'a.b', $1, 'null', now(), $2${sequence ? ', $3' : ''})`,
        sequence ? [TENANT_A, status, sequence] : [TENANT_A, status],
      );
    await expect(insert('done')).rejects.toThrow(/event_store_status_check/);
    await insert('pending', 1_000_000);
    await expect(insert('pending', 1_000_000)).rejects.toThrow(/event_store_sequence_number_key/);
    await db.dataSource.query('TRUNCATE event_store CASCADE');
  });

  describe('indexes serve the queries', () => {
    beforeAll(async () => {
      // Enough rows, spread like a real store, for the planner to prefer indexes over a scan.
      await db.dataSource.query(
        `INSERT INTO event_store (id, event_type, tenant_id, payload, timestamp, status, job_id, workflow_id)
         SELECT gen_random_uuid(), 'type.t' || (i % 100), md5('tenant' || (i % 50))::uuid, '{}',
                '2025-01-01T00:00:00Z'::timestamptz + i * interval '1 second',
                CASE WHEN i % 1000 = 0 THEN 'pending' ELSE 'processed' END,
                CASE WHEN i % 1000 = 0 THEN NULL ELSE 'job-' || i END,
                CASE WHEN i % 3 = 0 THEN NULL ELSE 'wf-' || (i % 5000) END
         FROM generate_series(1, 50000) AS i`,
      );
      await db.dataSource.query('ANALYZE event_store');
    }, 30_000);

    // md5('tenant7') as a UUID: one of the 50 tenants above.
    const hex = createHash('md5').update('tenant7').digest('hex');
    const tenant = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    const plan = async (sql: string, params: unknown[]): Promise<string> => {
      const rows = await db.dataSource.query<{ 'QUERY PLAN': string }[]>(`EXPLAIN ${sql}`, params);
      return rows.map((row) => row['QUERY PLAN']).join('\n');
    };
    const select = (filter: Parameters<typeof buildEventSelect>[0], gapSafe = true): Promise<string> => {
      const { sql, params } = buildEventSelect(filter, { gapSafe });
      return plan(sql, params);
    };

    it.each([
      [
        'getEventsByType (paged)',
        { types: ['type.t7'], afterSequence: 100, limit: 100 },
        'event_store_event_type_sequence_idx',
      ],
      [
        'getEventsByTenant (paged)',
        { tenantId: tenant, afterSequence: 100, limit: 100 },
        // A dense tenant may as well be read along the sequence index, filtering the few other rows.
        /event_store_(tenant_sequence_idx|sequence_number_key)/,
      ],
      ['getEventsByWorkflowId', { workflowId: 'wf-42' }, 'event_store_workflow_sequence_idx'],
      [
        'getEventsByTimeRange',
        { from: new Date('2025-01-01T01:00:00Z'), to: new Date('2025-01-01T01:05:00Z') },
        'event_store_timestamp_idx',
      ],
      [
        'a tenant over a time range',
        { tenantId: tenant, from: new Date('2025-01-01T00:00:00Z'), to: new Date('2025-01-01T12:00:00Z') },
        'event_store_tenant_timestamp_idx',
      ],
      ['stream / keyset page', { afterSequence: 25_000, limit: 1000 }, 'event_store_sequence_number_key'],
    ])('%s uses its index', async (_name, filter, index) => {
      expect(await select(filter)).toMatch(index);
    });

    it('the relay, lookups by id and by job id use their indexes', async () => {
      expect(
        await plan(
          `SELECT id FROM event_store WHERE job_id IS NULL AND status = 'pending' ORDER BY sequence_number LIMIT 500`,
          [],
        ),
      ).toContain('event_store_relay_unenqueued_idx');
      expect(await plan('SELECT id FROM event_store WHERE id = $1::uuid', [tenant])).toContain('event_store_pkey');
      expect(await plan('SELECT id FROM event_store WHERE job_id = $1', ['job-77'])).toContain(
        'event_store_job_id_idx',
      );
    });
  });

  it('reverts and re-applies cleanly', async () => {
    const other = await createTestDatabase('store-schema-down');
    try {
      const source = other.dataSource;
      while ((await source.query<unknown[]>('SELECT 1 FROM migrations')).length > 0) await source.undoLastMigration();
      const [{ table, sequence }] = await source.query<{ table: string | null; sequence: string | null }[]>(
        `SELECT to_regclass('event_store')::text AS table, to_regclass('event_store_sequence_number_seq')::text AS sequence`,
      );
      expect({ table, sequence }).toEqual({ table: null, sequence: null });
      await source.runMigrations({ transaction: 'all' });
      const [{ count }] = await source.query<{ count: string }[]>('SELECT count(*) AS count FROM event_store');
      expect(count).toBe('0');
    } finally {
      await other.drop();
    }
  });
});
