import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { PersistentEventStore, StoredEvent } from '@app/event-bus';
import { EntityManager } from 'typeorm';
import { createTestDatabase, type TestDatabase, waitForPagingReaders } from '../support/database.js';
import { newEvent, storeFor, TENANT_A, TENANT_B } from './store-fixtures.js';

describe('PersistentEventStore: queries', () => {
  let db: TestDatabase;
  let store: PersistentEventStore;
  // Saved one by one in this order, so sequence order is e1 < e2 < … < e6; timestamps are in
  // another order and ids are random, so a result sorted by either of them would fail.
  let e: Record<'e1' | 'e2' | 'e3' | 'e4' | 'e5' | 'e6', StoredEvent>;

  const at = (time: string): string => `2025-01-01T${time}:00.000Z`;
  const names = (events: StoredEvent[]): string[] =>
    events.map((event) => Object.entries(e).find(([, stored]) => stored.id === event.id)![0]);

  beforeAll(async () => {
    db = await createTestDatabase('store-queries');
    store = storeFor(db);
    const specs = {
      e1: { tenantId: TENANT_A, type: 'workflow.started', timestamp: at('10:00'), metadata: { workflowId: 'wf-1' } },
      e2: { tenantId: TENANT_B, type: 'workflow.started', timestamp: at('09:00'), metadata: { workflowId: 'wf-2' } },
      e3: {
        tenantId: TENANT_A,
        type: 'workflow.node.triggered',
        timestamp: at('11:00'),
        metadata: { workflowId: 'wf-1' },
      },
      e4: { tenantId: TENANT_A, type: 'order.placed', timestamp: at('08:00') },
      e5: {
        tenantId: TENANT_B,
        type: 'workflow.node.triggered',
        timestamp: at('10:30'),
        metadata: { workflowId: 'wf-1' },
      },
      e6: { tenantId: TENANT_A, type: 'workflow.started', timestamp: at('10:00'), metadata: { workflowId: 'wf-1' } },
    };
    const saved: Partial<typeof e> = {};
    for (const [name, spec] of Object.entries(specs)) {
      saved[name as keyof typeof e] = await store.save(newEvent({ ...spec, id: randomUUID() }));
    }
    e = saved as typeof e;
    await waitForPagingReaders(db.dataSource);
  });
  afterAll(() => db.drop());

  describe('findById', () => {
    it('returns the stored event', async () => {
      await expect(store.findById(e.e3.id)).resolves.toEqual(e.e3);
    });

    it('returns null for an unknown id, and for a malformed one without running SQL', async () => {
      await expect(store.findById(randomUUID())).resolves.toBeNull();
      const query = jest.spyOn(EntityManager.prototype, 'query');
      try {
        await expect(store.findById("' OR 1=1 --")).resolves.toBeNull();
        await expect(store.findById('')).resolves.toBeNull();
        expect(query).not.toHaveBeenCalled();
      } finally {
        query.mockRestore();
      }
    });
  });

  describe('getEventsByType', () => {
    it('returns the events of one type in sequence order', async () => {
      expect(names(await store.getEventsByType('workflow.started'))).toEqual(['e1', 'e2', 'e6']);
      expect(await store.getEventsByType('nothing.here')).toEqual([]);
    });

    it('is scoped by tenant', async () => {
      expect(names(await store.getEventsByType('workflow.started', { tenantId: TENANT_A }))).toEqual(['e1', 'e6']);
      expect(names(await store.getEventsByType('workflow.started', { tenantId: TENANT_B }))).toEqual(['e2']);
    });

    it('pages with limit and afterSequence', async () => {
      expect(names(await store.getEventsByType('workflow.started', { limit: 2 }))).toEqual(['e1', 'e2']);
      expect(names(await store.getEventsByType('workflow.started', { afterSequence: e.e2.sequenceNumber }))).toEqual([
        'e6',
      ]);
      expect(
        names(await store.getEventsByType('workflow.started', { afterSequence: e.e1.sequenceNumber, limit: 1 })),
      ).toEqual(['e2']);
    });
  });

  describe('getEventsByTenant', () => {
    it("returns one tenant's events in sequence order", async () => {
      expect(names(await store.getEventsByTenant(TENANT_A))).toEqual(['e1', 'e3', 'e4', 'e6']);
      expect(names(await store.getEventsByTenant(TENANT_B))).toEqual(['e2', 'e5']);
      expect(await store.getEventsByTenant(randomUUID())).toEqual([]);
    });

    it('accepts an upper-case UUID', async () => {
      expect(names(await store.getEventsByTenant(TENANT_B.toUpperCase()))).toEqual(['e2', 'e5']);
    });

    it('returns nothing when the options name another tenant', async () => {
      expect(await store.getEventsByTenant(TENANT_A, { tenantId: TENANT_B })).toEqual([]);
      expect(names(await store.getEventsByTenant(TENANT_A, { tenantId: TENANT_A, limit: 1 }))).toEqual(['e1']);
    });

    it('pages', async () => {
      expect(names(await store.getEventsByTenant(TENANT_A, { afterSequence: e.e3.sequenceNumber, limit: 1 }))).toEqual([
        'e4',
      ]);
    });
  });

  describe('getEventsByTimeRange', () => {
    it('compares timestamp, from inclusive and to exclusive, in sequence order', async () => {
      expect(names(await store.getEventsByTimeRange(new Date(at('10:00')), new Date(at('11:00'))))).toEqual([
        'e1',
        'e5',
        'e6',
      ]);
      expect(names(await store.getEventsByTimeRange(new Date(at('08:00')), new Date(at('09:00'))))).toEqual(['e4']);
      expect(await store.getEventsByTimeRange(new Date(at('10:00')), new Date(at('10:00')))).toEqual([]);
    });

    it('is scoped by tenant and pages', async () => {
      const range = [new Date(at('00:00')), new Date(at('23:00'))] as const;
      expect(names(await store.getEventsByTimeRange(...range, { tenantId: TENANT_B }))).toEqual(['e2', 'e5']);
      expect(names(await store.getEventsByTimeRange(...range, { afterSequence: e.e4.sequenceNumber }))).toEqual([
        'e5',
        'e6',
      ]);
    });

    it('rejects invalid Dates and a range that ends before it starts', async () => {
      await expect(store.getEventsByTimeRange(new Date('x'), new Date())).rejects.toMatchObject({ field: 'from' });
      await expect(store.getEventsByTimeRange(new Date(), '2025' as unknown as Date)).rejects.toMatchObject({
        field: 'to',
      });
      await expect(store.getEventsByTimeRange(new Date(at('11:00')), new Date(at('10:00')))).rejects.toMatchObject({
        field: 'to',
      });
    });
  });

  describe('getEventsByWorkflowId', () => {
    it("returns a workflow's events in sequence order", async () => {
      expect(names(await store.getEventsByWorkflowId('wf-1'))).toEqual(['e1', 'e3', 'e5', 'e6']);
      expect(names(await store.getEventsByWorkflowId('wf-2'))).toEqual(['e2']);
    });

    it('is scoped by tenant and pages', async () => {
      expect(names(await store.getEventsByWorkflowId('wf-1', { tenantId: TENANT_A }))).toEqual(['e1', 'e3', 'e6']);
      expect(
        names(await store.getEventsByWorkflowId('wf-1', { limit: 2, afterSequence: e.e1.sequenceNumber })),
      ).toEqual(['e3', 'e5']);
    });

    it('treats the id as a value, never as SQL', async () => {
      expect(await store.getEventsByWorkflowId("wf-1' OR '1'='1")).toEqual([]);
    });
  });

  describe('query', () => {
    it('returns every event in sequence order without a filter', async () => {
      expect(names(await store.query())).toEqual(['e1', 'e2', 'e3', 'e4', 'e5', 'e6']);
      expect(names(await store.query({}))).toEqual(['e1', 'e2', 'e3', 'e4', 'e5', 'e6']);
    });

    it('combines every filter', async () => {
      expect(names(await store.query({ type: ['workflow.started', 'order.placed'] }))).toEqual([
        'e1',
        'e2',
        'e4',
        'e6',
      ]);
      expect(names(await store.query({ type: 'workflow.node.triggered', tenantId: TENANT_B }))).toEqual(['e5']);
      expect(names(await store.query({ workflowId: 'wf-1', from: new Date(at('10:15')) }))).toEqual(['e3', 'e5']);
      expect(names(await store.query({ to: new Date(at('10:00')) }))).toEqual(['e2', 'e4']);
      expect(names(await store.query({ tenantId: TENANT_A, afterSequence: e.e1.sequenceNumber, limit: 2 }))).toEqual([
        'e3',
        'e4',
      ]);
      expect(await store.query({ type: 'workflow.started', tenantId: TENANT_B, workflowId: 'wf-1' })).toEqual([]);
    });
  });

  it('an undefined tenantId means every tenant', async () => {
    expect(names(await store.getEventsByType('workflow.started', { tenantId: undefined }))).toEqual(['e1', 'e2', 'e6']);
  });
});
