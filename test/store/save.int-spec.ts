import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { EventConflictError, type PersistentEventStore } from '@app/event-bus';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { clearEvents, countRows, newEvent, storeFor, TENANT_A, TENANT_B } from './store-fixtures.js';

describe('PersistentEventStore: save, saveAll, append', () => {
  let db: TestDatabase;
  let store: PersistentEventStore;

  beforeAll(async () => {
    db = await createTestDatabase('store-save');
    store = storeFor(db);
  });
  afterAll(() => db.drop());
  beforeEach(() => clearEvents(db));

  describe('save', () => {
    it('stores an event as pending and returns it as a StoredEvent', async () => {
      const input = newEvent({ metadata: { workflowId: 'wf-1', source: 'test' } });
      const stored = await store.save(input);

      expect(stored).toEqual({
        id: input.id,
        type: input.type,
        tenantId: TENANT_A,
        timestamp: '2025-01-01T00:00:00.000Z',
        payload: input.payload,
        metadata: { workflowId: 'wf-1', source: 'test' },
        status: 'pending',
        sequenceNumber: expect.any(Number),
        version: 1,
        createdAt: expect.any(String),
      });
      expect(Number.isSafeInteger(stored.sequenceNumber)).toBe(true);
      expect(new Date(stored.createdAt).toISOString()).toBe(stored.createdAt);

      const [row] = await db.dataSource.query<Record<string, unknown>[]>(
        'SELECT status, workflow_id, job_id, metadata FROM event_store WHERE id = $1',
        [input.id],
      );
      expect(row).toEqual({
        status: 'pending',
        workflow_id: 'wf-1',
        job_id: null,
        metadata: { workflowId: 'wf-1', source: 'test' },
      });
    });

    it('generates the id and the timestamp when they are omitted', async () => {
      const before = Date.now();
      const stored = await store.save({ type: 'order.placed', tenantId: TENANT_A, payload: null });
      expect(stored.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(Date.parse(stored.timestamp)).toBeGreaterThanOrEqual(before);
      expect(Date.parse(stored.timestamp)).toBeLessThanOrEqual(Date.now());
      expect(stored.payload).toBeNull();
      expect(stored).not.toHaveProperty('metadata');
    });

    it('accepts a Date timestamp and any offset, storing the instant as an ISO string', async () => {
      const fromDate = await store.save(newEvent({ timestamp: new Date('2025-03-04T05:06:07.089Z') }));
      const fromOffset = await store.save(newEvent({ timestamp: '2025-03-04T07:06:07.089+02:00' }));
      expect(fromDate.timestamp).toBe('2025-03-04T05:06:07.089Z');
      expect(fromOffset.timestamp).toBe('2025-03-04T05:06:07.089Z');
    });

    it('reads timestamps back as JavaScript writes them, at the edges of the range and of precision', async () => {
      const edges = ['0001-01-01T00:00:00.000Z', '9999-12-31T23:59:59.999Z', '2025-06-30T23:59:59.999Z'];
      const stored = await store.saveAll([
        ...edges.map((timestamp) => newEvent({ timestamp })),
        newEvent({ timestamp: '2025-01-01T01:00:00.123999+01:00' }),
      ]);
      expect(stored.map((event) => event.timestamp)).toEqual([...edges, '2025-01-01T00:00:00.123Z']);
      const reread = await store.query({ afterSequence: stored[0].sequenceNumber - 1 });
      expect(reread.map((event) => event.timestamp)).toEqual(stored.map((event) => event.timestamp));

      // created_at has microseconds in the table; the API truncates them to milliseconds, as a Date does.
      const [{ micros }] = await db.dataSource.query<{ micros: string }[]>(
        `SELECT extract(epoch FROM created_at) * 1000000 AS micros FROM event_store WHERE id = $1`,
        [stored[0].id],
      );
      expect(stored[0].createdAt).toBe(new Date(Math.floor(Number(micros) / 1000)).toISOString());
      expect(reread[0].createdAt).toBe(stored[0].createdAt);
    });

    it('lower-cases upper-case UUIDs, so later reads and comparisons match', async () => {
      const id = randomUUID().toUpperCase();
      const stored = await store.save(newEvent({ id, tenantId: TENANT_B.toUpperCase() }));
      expect(stored.id).toBe(id.toLowerCase());
      expect(stored.tenantId).toBe(TENANT_B);
      await expect(store.save(newEvent({ id: id.toLowerCase(), tenantId: TENANT_B }))).resolves.toEqual(stored);
    });
  });

  describe('saveAll', () => {
    it('stores a batch in input order with increasing sequence numbers', async () => {
      const inputs = Array.from({ length: 50 }, (_, index) => newEvent({ payload: { index } }));
      const stored = await store.saveAll(inputs);
      expect(stored.map((event) => event.id)).toEqual(inputs.map((event) => event.id));
      const sequences = stored.map((event) => event.sequenceNumber);
      expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
      expect(new Set(sequences).size).toBe(50);
      expect(await countRows(db)).toBe(50);
    });

    it('returns [] for an empty batch', async () => {
      await expect(store.saveAll([])).resolves.toEqual([]);
    });

    it('stores a batch larger than a VALUES list could carry in one statement', async () => {
      const inputs = Array.from({ length: 12_000 }, (_, index) => newEvent({ payload: { index } }));
      const stored = await store.saveAll(inputs);
      expect(stored).toHaveLength(12_000);
      expect(stored[11_999].payload).toEqual({ index: 11_999 });
      expect(await countRows(db)).toBe(12_000);
    });
  });

  describe('idempotency', () => {
    it('stores the same event twice once and returns the original', async () => {
      const input = newEvent();
      const first = await store.save(input);
      const second = await store.save({ ...input });
      expect(second).toEqual(first);
      expect(await countRows(db)).toBe(1);
    });

    it('ignores the key order of payload and metadata', async () => {
      const input = newEvent({ payload: { a: 1, b: { c: [1, 2], d: 'x' } }, metadata: { workflowId: 'w', k: 1 } });
      const first = await store.save(input);
      const again = await store.save({
        ...input,
        payload: { b: { d: 'x', c: [1, 2] }, a: 1 },
        metadata: { k: 1, workflowId: 'w' },
      });
      expect(again).toEqual(first);
      expect(await countRows(db)).toBe(1);
    });

    it('treats a repeat without a timestamp as the same event', async () => {
      const input = newEvent();
      const first = await store.save(input);
      const { timestamp: _timestamp, ...withoutTimestamp } = input;
      await expect(store.save(withoutTimestamp)).resolves.toEqual(first);
      expect(await countRows(db)).toBe(1);
    });

    it('treats the same instant written differently as the same timestamp', async () => {
      const input = newEvent({ timestamp: '2025-01-01T01:00:00+01:00' });
      const first = await store.save(input);
      await expect(store.save({ ...input, timestamp: new Date('2025-01-01T00:00:00Z') })).resolves.toEqual(first);
    });

    it('reports which events of an append were inserted', async () => {
      const existing = await store.save(newEvent());
      const fresh = newEvent();
      const appended = await store.append([{ ...newEvent(), id: existing.id, timestamp: existing.timestamp }, fresh]);
      expect(appended.map(({ inserted }) => inserted)).toEqual([false, true]);
      expect(appended[0].event).toEqual(existing);
      expect(appended[1].event.id).toBe(fresh.id);
    });

    it('a duplicate is compared to the stored metadata without the bus-set jobId', async () => {
      const input = newEvent({ metadata: { workflowId: 'wf' } });
      await store.save(input);
      await store.updateStatus(input.id!, 'processed', 'job-1');
      const again = await store.save(input);
      expect(again.metadata).toEqual({ workflowId: 'wf', jobId: 'job-1' });
      expect(again.status).toBe('processed');
    });

    it('stores identical duplicates inside one batch once, both positions returning the stored event', async () => {
      const input = newEvent();
      const other = newEvent();
      const appended = await store.append([input, other, { ...input, payload: { attempt: 1, nodeId: 'n1' } }]);
      expect(appended[0].event).toEqual(appended[2].event);
      expect(appended.map(({ inserted }) => inserted)).toEqual([true, true, false]);
      expect(await countRows(db)).toBe(2);
    });
  });

  describe('conflicts', () => {
    const base = newEvent({ metadata: { workflowId: 'wf-1' } });
    const variations: [string, Partial<typeof base>][] = [
      ['type', { type: 'workflow.node.failed' }],
      ['tenantId', { tenantId: TENANT_B }],
      ['payload', { payload: { nodeId: 'n1', attempt: 2 } }],
      ['metadata', { metadata: { workflowId: 'wf-2' } }],
      ['metadata', { metadata: undefined }],
      ['timestamp', { timestamp: '2025-01-01T00:00:00.001Z' }],
    ];

    it.each(variations)('a different %s is an EventConflictError that changes nothing', async (field, change) => {
      const original = await store.save(base);
      const error = await store.save({ ...base, ...change }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(EventConflictError);
      expect(error).toMatchObject({ eventId: base.id, fields: [field] });
      expect(await store.findById(base.id!)).toEqual(original);
      expect(await countRows(db)).toBe(1);
    });

    it('lists every differing field', async () => {
      await store.save(base);
      await expect(store.save({ ...base, type: 'other.type', payload: 1 })).rejects.toMatchObject({
        fields: ['type', 'payload'],
      });
    });

    it('a conflict anywhere in a batch leaves nothing of the batch stored', async () => {
      await store.save(base);
      const fresh = [newEvent(), newEvent()];
      await expect(store.saveAll([fresh[0], { ...base, payload: 'changed' }, fresh[1]])).rejects.toBeInstanceOf(
        EventConflictError,
      );
      expect(await countRows(db)).toBe(1);
      expect(await store.findById(fresh[0].id!)).toBeNull();
    });

    it('conflicting duplicates inside one batch reject it before anything is written', async () => {
      const input = newEvent();
      await expect(store.saveAll([input, newEvent(), { ...input, type: 'x.y' }])).rejects.toMatchObject({
        eventId: input.id,
        fields: ['type'],
      });
      expect(await countRows(db)).toBe(0);
    });
  });

  describe("with the caller's transaction (manager)", () => {
    it('is stored when the caller commits', async () => {
      const input = newEvent();
      await db.dataSource.transaction(async (manager) => {
        await store.save(input, { manager });
        // Not visible outside the transaction before the commit.
        expect(await store.findById(input.id!)).toBeNull();
      });
      expect(await store.findById(input.id!)).not.toBeNull();
    });

    it('is gone when the caller rolls back', async () => {
      const input = newEvent();
      await expect(
        db.dataSource.transaction(async (manager) => {
          await store.save(input, { manager });
          throw new Error('caller fails after saving');
        }),
      ).rejects.toThrow('caller fails after saving');
      expect(await store.findById(input.id!)).toBeNull();
      expect(await countRows(db)).toBe(0);
    });

    it('a conflict rolls back only the event batch, leaving the caller free to commit its own writes', async () => {
      const original = await store.save(newEvent());
      const mine = newEvent();
      await db.dataSource.transaction(async (manager) => {
        await store.save(mine, { manager });
        await expect(
          store.saveAll([newEvent(), { ...original, payload: 'other' }], { manager }),
        ).rejects.toBeInstanceOf(EventConflictError);
        // The transaction is still usable: the savepoint absorbed the failure.
        await manager.query('SELECT 1');
      });
      expect(await store.findById(mine.id!)).not.toBeNull();
      expect(await countRows(db)).toBe(2);
    });
  });
});
