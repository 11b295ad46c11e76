/**
 * The `EventStore` contract: one set of cases run against every implementation (the TypeORM store
 * on PostgreSQL, the in-memory store of `./testing`), so a behaviour that differs fails. Each spec
 * hands in a subject that builds stores on its own storage; the cases use only the public API.
 *
 *   describe('InMemoryEventStore', () => eventStoreContract(async () => inMemorySubject()));
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import {
  EventBusError,
  EventConcurrencyError,
  EventConflictError,
  EventValidationError,
  type EventQueryOptions,
  type EventStore,
  type NewDomainEvent,
  type StoredEvent,
} from '@app/event-bus';

export interface EventStoreSubject {
  /** A store on the subject's storage; `maxPayloadBytes` as the store's option. */
  createStore(options?: { maxPayloadBytes?: number }): EventStore;
  /** Removes every event of every store it created. */
  clear(): Promise<void>;
  /** Waits until what was written is visible to paging readers (gap-safe stores); a no-op where it always is. */
  settle(): Promise<void>;
  /** Releases what the subject opened. */
  close(): Promise<void>;
}

export const TENANT_A = '11111111-1111-4111-8111-111111111111';
export const TENANT_B = '22222222-2222-4222-8222-222222222222';

function newEvent(overrides: Partial<NewDomainEvent> = {}): NewDomainEvent {
  return {
    id: randomUUID(),
    type: 'workflow.node.triggered',
    tenantId: TENANT_A,
    timestamp: '2025-01-01T00:00:00.000Z',
    payload: { nodeId: 'n1', attempt: 1 },
    ...overrides,
  };
}

async function collect<P>(events: AsyncIterable<StoredEvent<P>>): Promise<StoredEvent<P>[]> {
  const all: StoredEvent<P>[] = [];
  for await (const event of events) all.push(event);
  return all;
}

async function rejection(call: () => Promise<unknown>): Promise<unknown> {
  return call().then(
    () => new Error('expected a rejection'),
    (error: unknown) => error,
  );
}

export function eventStoreContract(open: () => Promise<EventStoreSubject>): void {
  let subject: EventStoreSubject;
  let store: EventStore;
  const count = async (): Promise<number> => (await store.query()).length;

  beforeAll(async () => {
    subject = await open();
    store = subject.createStore();
  });
  afterAll(() => subject?.close());
  beforeEach(() => subject.clear());

  describe('save and saveAll', () => {
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
      expect(await store.findById(input.id!)).toEqual(stored);
    });

    it('generates the id and the timestamp when they are omitted, and keeps no empty metadata', async () => {
      const before = Date.now();
      const stored = await store.save({ type: 'order.placed', tenantId: TENANT_A, payload: null, metadata: {} });
      expect(stored.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(Date.parse(stored.timestamp)).toBeGreaterThanOrEqual(before);
      expect(stored.payload).toBeNull();
      expect(stored).not.toHaveProperty('metadata');
    });

    it('normalizes timestamps and UUIDs: a Date, an offset and upper case read back as one form', async () => {
      const fromDate = await store.save(newEvent({ timestamp: new Date('2025-03-04T05:06:07.089Z') }));
      const fromOffset = await store.save(newEvent({ timestamp: '2025-03-04T07:06:07.089+02:00' }));
      expect(fromDate.timestamp).toBe('2025-03-04T05:06:07.089Z');
      expect(fromOffset.timestamp).toBe('2025-03-04T05:06:07.089Z');
      const id = randomUUID().toUpperCase();
      const upper = await store.save(newEvent({ id, tenantId: TENANT_B.toUpperCase() }));
      expect(upper.id).toBe(id.toLowerCase());
      expect(upper.tenantId).toBe(TENANT_B);
      expect(await store.findById(id)).toEqual(upper);
    });

    it('returns the payload as JSON reads it back: a class instance becomes its data', async () => {
      class Money {
        constructor(
          readonly amount: number,
          readonly currency: string,
        ) {}
      }
      const stored = await store.save(newEvent({ payload: { price: new Money(5, 'EUR'), list: [1, 'a', null] } }));
      expect(stored.payload).toStrictEqual({ price: { amount: 5, currency: 'EUR' }, list: [1, 'a', null] });
    });

    it('keeps what it stored apart from the objects it was given and returned', async () => {
      const input = newEvent({ payload: { items: [1] }, metadata: { workflowId: 'wf-1' } });
      const stored = await store.save(input);
      (input.payload as { items: number[] }).items.push(2);
      (stored.payload as { items: number[] }).items.push(3);
      stored.metadata!.workflowId = 'changed';
      expect(await store.findById(input.id!)).toMatchObject({
        payload: { items: [1] },
        metadata: { workflowId: 'wf-1' },
      });
    });

    it('stores a batch in input order with increasing sequence numbers; [] for an empty one', async () => {
      const inputs = Array.from({ length: 20 }, (_, index) => newEvent({ payload: { index } }));
      const stored = await store.saveAll(inputs);
      expect(stored.map((event) => event.id)).toEqual(inputs.map((event) => event.id));
      const sequences = stored.map((event) => event.sequenceNumber);
      expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
      expect(new Set(sequences).size).toBe(20);
      const later = await store.save(newEvent());
      expect(later.sequenceNumber).toBeGreaterThan(Math.max(...sequences));
      await expect(store.saveAll([])).resolves.toEqual([]);
    });
  });

  describe('validation', () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ['id not a UUID', { id: 'not-a-uuid' }, 'id'],
      ['type with a wildcard', { type: 'workflow.*' }, 'type'],
      ['type with an empty segment', { type: 'workflow..started' }, 'type'],
      ['tenantId not a UUID', { tenantId: "' OR 1=1 --" }, 'tenantId'],
      ['timestamp without a time zone', { timestamp: '2025-01-01T00:00:00' }, 'timestamp'],
      ['payload missing', { payload: undefined }, 'payload'],
      ['payload NaN', { payload: { price: NaN } }, 'payload.price'],
      ['payload a Date', { payload: { at: new Date() } }, 'payload.at'],
      ['payload with \\u0000', { payload: { text: 'a\u0000b' } }, 'payload.text'],
      ['payload with a key constructor', { payload: { constructor: 1 } }, 'payload.constructor'],
      ['metadata a Map', { metadata: new Map() }, 'metadata'],
      ['metadata.jobId given by the caller', { metadata: { jobId: 'j1' } }, 'metadata.jobId'],
    ];

    it.each(cases)('%s: an EventValidationError naming the field, nothing stored', async (_case, change, field) => {
      const event = { ...newEvent(), ...change } as NewDomainEvent;
      const error = await rejection(() => store.save(event));
      expect(error).toBeInstanceOf(EventValidationError);
      expect(error).toMatchObject({ field, index: undefined });
      const inBatch = await rejection(() => store.saveAll([newEvent(), event]));
      expect(inBatch).toBeInstanceOf(EventValidationError);
      expect(inBatch).toMatchObject({ field, index: 1 });
      expect(await count()).toBe(0);
    });

    it('applies the payload limit of the store', async () => {
      const small = subject.createStore({ maxPayloadBytes: 1024 });
      await expect(small.save(newEvent({ payload: 'x'.repeat(1100) }))).rejects.toMatchObject({ field: 'payload' });
      await expect(small.save(newEvent({ payload: 'x'.repeat(900) }))).resolves.toMatchObject({ status: 'pending' });
    });

    it('refuses a batch that is not an array', async () => {
      await expect(store.saveAll('nope' as unknown as NewDomainEvent[])).rejects.toMatchObject({ field: 'events' });
    });
  });

  describe('idempotency', () => {
    it('stores the same event twice once and returns the original, whatever the key order', async () => {
      const input = newEvent({ payload: { a: 1, b: { c: [1, 2] } }, metadata: { workflowId: 'w', k: 1 } });
      const first = await store.save(input);
      const again = await store.save({
        ...input,
        payload: { b: { c: [1, 2] }, a: 1 },
        metadata: { k: 1, workflowId: 'w' },
      });
      expect(again).toEqual(first);
      const { timestamp: _timestamp, ...withoutTimestamp } = input;
      await expect(store.save(withoutTimestamp)).resolves.toEqual(first);
      expect(await count()).toBe(1);
    });

    it('compares a duplicate without the job id the bus set, and returns the stored status', async () => {
      const input = newEvent({ metadata: { workflowId: 'wf' } });
      await store.save(input);
      await store.updateStatus(input.id!, 'processed', 'job-1');
      const again = await store.save(input);
      expect(again.metadata).toEqual({ workflowId: 'wf', jobId: 'job-1' });
      expect(again.status).toBe('processed');
    });

    it('tells which events of an append it inserted; identical duplicates in a batch are stored once', async () => {
      const existing = await store.save(newEvent());
      const fresh = newEvent();
      const appended = await store.append([
        { ...newEvent(), id: existing.id, timestamp: existing.timestamp },
        fresh,
        fresh,
      ]);
      expect(appended.map(({ inserted }) => inserted)).toEqual([false, true, false]);
      expect(appended[0].event).toEqual(existing);
      expect(appended[2].event).toEqual(appended[1].event);
      expect(await count()).toBe(2);
    });

    const base = newEvent({ metadata: { workflowId: 'wf-1' } });
    const variations: [string, Partial<NewDomainEvent>][] = [
      ['type', { type: 'workflow.node.failed' }],
      ['tenantId', { tenantId: TENANT_B }],
      ['payload', { payload: { nodeId: 'n1', attempt: 2 } }],
      ['metadata', { metadata: undefined }],
      ['timestamp', { timestamp: '2025-01-01T00:00:00.001Z' }],
    ];

    it.each(variations)('a different %s is an EventConflictError that changes nothing', async (field, change) => {
      const original = await store.save(base);
      const error = await rejection(() => store.save({ ...base, ...change }));
      expect(error).toBeInstanceOf(EventConflictError);
      expect(error).toMatchObject({ eventId: base.id, fields: [field] });
      expect(await store.findById(base.id!)).toEqual(original);
    });

    it('a conflict anywhere in a batch, or between its own events, stores nothing of it', async () => {
      await store.save(base);
      const fresh = [newEvent(), newEvent()];
      await expect(store.saveAll([fresh[0], { ...base, payload: 'changed' }, fresh[1]])).rejects.toBeInstanceOf(
        EventConflictError,
      );
      await expect(store.saveAll([fresh[0], { ...fresh[0], type: 'x.y' }])).rejects.toMatchObject({
        eventId: fresh[0].id,
        fields: ['type'],
      });
      expect(await count()).toBe(1);
      expect(await store.findById(fresh[0].id!)).toBeNull();
    });
  });

  describe('versions', () => {
    const inWorkflow = (workflowId: string, overrides: Partial<NewDomainEvent> = {}): NewDomainEvent =>
      newEvent({ metadata: { workflowId }, ...overrides });
    const versionsOf = async (workflowId: string, tenantId = TENANT_A): Promise<Array<number | null>> =>
      (await store.getEventsByWorkflowId(workflowId, { tenantId })).map((event) => event.version);

    it('numbers each workflow stream (tenant + workflow id) 1, 2, 3 …; an event without a workflow has none', async () => {
      const [a1, b1, none, a2] = await store.saveAll([
        inWorkflow('wf-a'),
        inWorkflow('wf-b'),
        newEvent(),
        inWorkflow('wf-a'),
      ]);
      expect([a1.version, b1.version, none.version, a2.version]).toEqual([1, 1, null, 2]);
      expect((await store.save(inWorkflow('wf-a'))).version).toBe(3);
      // The same workflow id in another tenant is another stream.
      expect((await store.save(inWorkflow('wf-a', { tenantId: TENANT_B }))).version).toBe(1);
      expect(await versionsOf('wf-a')).toEqual([1, 2, 3]);
      expect((await store.findById(a2.id))?.version).toBe(2);
    });

    it('an idempotent re-publish keeps its version and takes no new one, in a batch too', async () => {
      const first = await store.save(inWorkflow('wf-idem'));
      expect((await store.save(inWorkflow('wf-idem', { id: first.id, payload: first.payload }))).version).toBe(1);
      const [again, next] = await store.saveAll([
        inWorkflow('wf-idem', { id: first.id, payload: first.payload }),
        inWorkflow('wf-idem'),
      ]);
      expect([again.version, next.version]).toEqual([1, 2]);
      expect(await versionsOf('wf-idem')).toEqual([1, 2]);
    });

    it('getWorkflowVersion: the last version, 0 for none; tenantId is required when the id is in two tenants', async () => {
      expect(await store.getWorkflowVersion('wf-v')).toBe(0);
      await store.saveAll([inWorkflow('wf-v'), inWorkflow('wf-v')]);
      expect(await store.getWorkflowVersion('wf-v')).toBe(2);
      expect(await store.getWorkflowVersion('wf-v', { tenantId: TENANT_A })).toBe(2);
      expect(await store.getWorkflowVersion('wf-v', { tenantId: TENANT_B })).toBe(0);
      await store.save(inWorkflow('wf-v', { tenantId: TENANT_B }));
      const ambiguous = await rejection(() => store.getWorkflowVersion('wf-v'));
      expect(ambiguous).toBeInstanceOf(EventValidationError);
      expect((ambiguous as EventValidationError).field).toBe('tenantId');
      expect(await store.getWorkflowVersion('wf-v', { tenantId: TENANT_B.toUpperCase() })).toBe(1);
      await expect(store.getWorkflowVersion('')).rejects.toBeInstanceOf(EventValidationError);
      await expect(store.getWorkflowVersion('wf-v', { tenantId: 'nope' })).rejects.toBeInstanceOf(EventValidationError);
    });

    it('expectedVersion: appends when the stream is there, else EventConcurrencyError and nothing stored', async () => {
      const [one, two] = await store.saveAll([inWorkflow('wf-x'), inWorkflow('wf-x')], { expectedVersion: 0 });
      expect([one.version, two.version]).toEqual([1, 2]);
      expect((await store.save(inWorkflow('wf-x'), { expectedVersion: 2 })).version).toBe(3);
      for (const expectedVersion of [2, 4, 0]) {
        const error = await rejection(() => store.save(inWorkflow('wf-x'), { expectedVersion }));
        expect(error).toBeInstanceOf(EventConcurrencyError);
        expect(error).toMatchObject({ workflowId: 'wf-x', tenantId: TENANT_A, expectedVersion, actualVersion: 3 });
      }
      const batch = await rejection(() =>
        store.saveAll([inWorkflow('wf-x'), inWorkflow('wf-x')], { expectedVersion: 1 }),
      );
      expect(batch).toBeInstanceOf(EventConcurrencyError);
      expect(await versionsOf('wf-x')).toEqual([1, 2, 3]);
      // Another tenant's stream of the same id is at 0.
      expect((await store.save(inWorkflow('wf-x', { tenantId: TENANT_B }), { expectedVersion: 0 })).version).toBe(1);
    });

    it('expectedVersion: a re-publish of stored events resolves to them whatever the version; a mix is checked', async () => {
      const stored = await store.save(inWorkflow('wf-r'), { expectedVersion: 0 });
      const again = await store.save(inWorkflow('wf-r', { id: stored.id, payload: stored.payload }), {
        expectedVersion: 0,
      });
      expect(again).toEqual(stored);
      const mix = [inWorkflow('wf-r', { id: stored.id, payload: stored.payload }), inWorkflow('wf-r')];
      expect(await rejection(() => store.append(mix, { expectedVersion: 0 }))).toMatchObject({ actualVersion: 1 });
      const appended = await store.append(mix, { expectedVersion: 1 });
      expect(appended.map(({ event, inserted }) => [event.version, inserted])).toEqual([
        [1, false],
        [2, true],
      ]);
    });

    it('expectedVersion is validated: a non-negative integer, and events of one workflow', async () => {
      for (const expectedVersion of [-1, 1.5, Number.NaN, '1', null, 2 ** 53]) {
        const error = await rejection(() => store.save(inWorkflow('wf-bad'), { expectedVersion } as never));
        expect(error).toBeInstanceOf(EventValidationError);
        expect((error as EventValidationError).field).toBe('expectedVersion');
      }
      const noWorkflow = await rejection(() => store.save(newEvent(), { expectedVersion: 0 }));
      expect((noWorkflow as EventValidationError).field).toBe('metadata.workflowId');
      const mixed = await rejection(() =>
        store.saveAll([inWorkflow('wf-bad'), inWorkflow('wf-other')], { expectedVersion: 0 }),
      );
      expect(mixed).toMatchObject({ field: 'metadata.workflowId', index: 1 });
      const tenants = await rejection(() =>
        store.saveAll([inWorkflow('wf-bad'), inWorkflow('wf-bad', { tenantId: TENANT_B })], { expectedVersion: 0 }),
      );
      expect(tenants).toMatchObject({ field: 'tenantId', index: 1 });
      expect(await count()).toBe(0);
    });
  });

  describe('queries', () => {
    // Stored in this order, so sequence order is e1 < … < e6; timestamps are in another order and
    // ids are random, so a result sorted by either of them would fail.
    let e: Record<'e1' | 'e2' | 'e3' | 'e4' | 'e5' | 'e6', StoredEvent>;
    const at = (time: string): string => `2025-01-01T${time}:00.000Z`;
    const names = (events: StoredEvent[]): string[] =>
      events.map((event) => Object.entries(e).find(([, stored]) => stored.id === event.id)?.[0] ?? event.id);

    beforeEach(async () => {
      const specs: Record<keyof typeof e, Partial<NewDomainEvent>> = {
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
      for (const [name, spec] of Object.entries(specs))
        saved[name as keyof typeof e] = await store.save(newEvent(spec));
      e = saved as typeof e;
      await store.updateStatus(e.e2.id, 'processed', 'job-2');
      await store.updateStatus(e.e5.id, 'failed');
      e.e2 = (await store.findById(e.e2.id))!;
      e.e5 = (await store.findById(e.e5.id))!;
      await subject.settle();
    });

    it('findById: the event, null for an unknown or malformed id', async () => {
      await expect(store.findById(e.e3.id)).resolves.toEqual(e.e3);
      await expect(store.findById(randomUUID())).resolves.toBeNull();
      await expect(store.findById("' OR 1=1 --")).resolves.toBeNull();
      await expect(store.findById('')).resolves.toBeNull();
    });

    it('getEventsByType: by type, scoped by tenant, paged', async () => {
      expect(names(await store.getEventsByType('workflow.started'))).toEqual(['e1', 'e2', 'e6']);
      expect(names(await store.getEventsByType('workflow.started', { tenantId: TENANT_A }))).toEqual(['e1', 'e6']);
      expect(names(await store.getEventsByType('workflow.started', { limit: 2 }))).toEqual(['e1', 'e2']);
      expect(
        names(await store.getEventsByType('workflow.started', { afterSequence: e.e1.sequenceNumber, limit: 1 })),
      ).toEqual(['e2']);
      expect(await store.getEventsByType('Workflow.Started')).toEqual([]);
    });

    it('getEventsByTenant: one tenant, upper case accepted, another tenant in the options matches nothing', async () => {
      expect(names(await store.getEventsByTenant(TENANT_A))).toEqual(['e1', 'e3', 'e4', 'e6']);
      expect(names(await store.getEventsByTenant(TENANT_B.toUpperCase()))).toEqual(['e2', 'e5']);
      expect(await store.getEventsByTenant(TENANT_A, { tenantId: TENANT_B })).toEqual([]);
      expect(names(await store.getEventsByTenant(TENANT_A, { afterSequence: e.e3.sequenceNumber, limit: 1 }))).toEqual([
        'e4',
      ]);
    });

    it('getEventsByTimeRange: timestamp in [from, to), in sequence order', async () => {
      expect(names(await store.getEventsByTimeRange(new Date(at('10:00')), new Date(at('11:00'))))).toEqual([
        'e1',
        'e5',
        'e6',
      ]);
      expect(await store.getEventsByTimeRange(new Date(at('10:00')), new Date(at('10:00')))).toEqual([]);
      const day = [new Date(at('00:00')), new Date(at('23:00'))] as const;
      expect(names(await store.getEventsByTimeRange(...day, { tenantId: TENANT_B }))).toEqual(['e2', 'e5']);
      await expect(store.getEventsByTimeRange(new Date('x'), new Date())).rejects.toMatchObject({ field: 'from' });
      await expect(store.getEventsByTimeRange(new Date(at('11:00')), new Date(at('10:00')))).rejects.toMatchObject({
        field: 'to',
      });
    });

    it('getEventsByWorkflowId: one workflow, scoped and paged, the id a value', async () => {
      expect(names(await store.getEventsByWorkflowId('wf-1'))).toEqual(['e1', 'e3', 'e5', 'e6']);
      expect(names(await store.getEventsByWorkflowId('wf-1', { tenantId: TENANT_A }))).toEqual(['e1', 'e3', 'e6']);
      expect(
        names(await store.getEventsByWorkflowId('wf-1', { limit: 2, afterSequence: e.e1.sequenceNumber })),
      ).toEqual(['e3', 'e5']);
      expect(await store.getEventsByWorkflowId("wf-1' OR '1'='1")).toEqual([]);
    });

    it('query: every filter, alone and combined', async () => {
      expect(names(await store.query())).toEqual(['e1', 'e2', 'e3', 'e4', 'e5', 'e6']);
      expect(names(await store.query({ type: ['workflow.started', 'order.placed'] }))).toEqual([
        'e1',
        'e2',
        'e4',
        'e6',
      ]);
      expect(names(await store.query({ type: 'workflow.node.triggered', tenantId: TENANT_B }))).toEqual(['e5']);
      expect(names(await store.query({ workflowId: 'wf-1', from: new Date(at('10:15')) }))).toEqual(['e3', 'e5']);
      expect(names(await store.query({ to: new Date(at('10:00')) }))).toEqual(['e2', 'e4']);
      expect(names(await store.query({ status: 'pending' }))).toEqual(['e1', 'e3', 'e4', 'e6']);
      expect(names(await store.query({ status: ['processed', 'failed'] }))).toEqual(['e2', 'e5']);
      expect(names(await store.query({ tenantId: TENANT_A, afterSequence: e.e1.sequenceNumber, limit: 2 }))).toEqual([
        'e3',
        'e4',
      ]);
      expect(names(await store.query({ tenantId: undefined, type: 'order.placed' }))).toEqual(['e4']);
      expect(await store.query({ type: 'workflow.started', tenantId: TENANT_B, workflowId: 'wf-1' })).toEqual([]);
    });

    it('count: how many events match, every filter alone and combined, limit ignored', async () => {
      expect(await store.count()).toBe(6);
      expect(await store.count({ type: ['workflow.started', 'order.placed'] })).toBe(4);
      expect(await store.count({ type: 'workflow.node.triggered', tenantId: TENANT_B })).toBe(1);
      expect(await store.count({ workflowId: 'wf-1', from: new Date(at('10:15')) })).toBe(2);
      expect(await store.count({ to: new Date(at('10:00')) })).toBe(2);
      expect(await store.count({ status: ['processed', 'failed'] })).toBe(2);
      expect(await store.count({ tenantId: TENANT_A, afterSequence: e.e1.sequenceNumber })).toBe(3);
      expect(await store.count({ limit: 1 } as never)).toBe(6);
      expect(await store.count({ type: 'workflow.started', tenantId: TENANT_B, workflowId: 'wf-1' })).toBe(0);
      await expect(store.count({ tenantId: 'nope' })).rejects.toBeInstanceOf(EventValidationError);
    });

    it('lastSequence: the highest sequence number stored', async () => {
      expect(await store.lastSequence()).toBe(e.e6.sequenceNumber);
      const next = await store.save(newEvent());
      expect(await store.lastSequence()).toBe(next.sequenceNumber);
    });

    it('stream: every matching event in sequence order, with afterSequence and limit', async () => {
      expect(names(await collect(store.stream()))).toEqual(['e1', 'e2', 'e3', 'e4', 'e5', 'e6']);
      expect(names(await collect(store.stream({ batchSize: 1 })))).toEqual(['e1', 'e2', 'e3', 'e4', 'e5', 'e6']);
      expect(names(await collect(store.stream({ tenantId: TENANT_A, workflowId: 'wf-1', batchSize: 2 })))).toEqual([
        'e1',
        'e3',
        'e6',
      ]);
      expect(names(await collect(store.stream({ afterSequence: e.e2.sequenceNumber, limit: 2 })))).toEqual([
        'e3',
        'e4',
      ]);
      expect(names(await collect(store.stream({ status: 'failed' })))).toEqual(['e5']);
      expect(await collect(store.stream({ type: 'nothing.here' }))).toEqual([]);
    });
  });

  describe('filter validation, before anything is read', () => {
    const badTenants: unknown[] = ['', null, "' OR 1=1 --", 42];
    const badPaging: [keyof EventQueryOptions, unknown][] = [
      ['limit', 0],
      ['limit', 1.5],
      ['limit', '10'],
      ['afterSequence', -1],
      ['afterSequence', null],
    ];
    const methods: [string, (options: EventQueryOptions) => Promise<unknown>][] = [
      ['getEventsByType', (options) => store.getEventsByType('workflow.started', options)],
      ['getEventsByTenant', (options) => store.getEventsByTenant(TENANT_A, options)],
      ['getEventsByTimeRange', (options) => store.getEventsByTimeRange(new Date(0), new Date(), options)],
      ['getEventsByWorkflowId', (options) => store.getEventsByWorkflowId('wf-1', options)],
      ['query', (options) => store.query(options)],
      ['stream', async (options) => store.stream(options)],
    ];

    it.each(methods)('%s rejects malformed tenantId, limit and afterSequence', async (_method, call) => {
      for (const tenantId of badTenants) {
        await expect(call({ tenantId: tenantId as string })).rejects.toMatchObject({
          name: 'EventValidationError',
          field: 'tenantId',
        });
      }
      for (const [field, value] of badPaging) {
        await expect(call({ [field]: value })).rejects.toMatchObject({ name: 'EventValidationError', field });
      }
    });

    it('query and stream reject a malformed type, workflowId, date, status, batchSize or catchUpTimeoutMs', async () => {
      const bad: [Record<string, unknown>, string][] = [
        [{ type: [] }, 'type'],
        [{ type: 'a.*' }, 'type'],
        [{ type: ['ok.type', 'bad type'] }, 'type[1]'],
        [{ workflowId: '' }, 'workflowId'],
        [{ from: 'yesterday' }, 'from'],
        [{ to: new Date('x') }, 'to'],
        [{ status: 'done' }, 'status'],
        [{ status: [] }, 'status'],
      ];
      for (const [filter, field] of bad) {
        await expect(store.query(filter)).rejects.toMatchObject({ name: 'EventValidationError', field });
        expect(() => store.stream(filter)).toThrow(EventValidationError);
      }
      expect(() => store.stream({ batchSize: 0 })).toThrow(expect.objectContaining({ field: 'batchSize' }));
      expect(() => store.stream({ catchUpTimeoutMs: -1 })).toThrow(
        expect.objectContaining({ field: 'catchUpTimeoutMs' }),
      );
      await expect(store.getEventsByType('bad type')).rejects.toMatchObject({ field: 'type' });
      await expect(store.getEventsByTenant('nope')).rejects.toMatchObject({ field: 'tenantId' });
      await expect(store.getEventsByWorkflowId('')).rejects.toMatchObject({ field: 'workflowId' });
    });
  });

  describe('updateStatus', () => {
    it('sets the status and the job id, which reads back as metadata.jobId; without one the recorded id stays', async () => {
      const plain = await store.save(newEvent());
      const withMetadata = await store.save(newEvent({ metadata: { workflowId: 'w' } }));
      await store.updateStatus(plain.id, 'processing', plain.id);
      expect(await store.findById(plain.id)).toMatchObject({ status: 'processing', metadata: { jobId: plain.id } });
      await store.updateStatus(plain.id.toUpperCase(), 'processed');
      expect(await store.findById(plain.id)).toMatchObject({ status: 'processed', metadata: { jobId: plain.id } });
      await store.updateStatus(withMetadata.id, 'failed', 'job-7');
      expect((await store.findById(withMetadata.id))?.metadata).toEqual({ workflowId: 'w', jobId: 'job-7' });
      expect(await store.getEventsByWorkflowId('w')).toMatchObject([{ status: 'failed' }]);
    });

    it('rejects an unknown event, a bad id, a bad status and an empty job id, changing nothing', async () => {
      const event = await store.save(newEvent());
      const unknown = await rejection(() => store.updateStatus(randomUUID(), 'processed'));
      expect(unknown).toBeInstanceOf(EventBusError);
      expect(unknown).not.toBeInstanceOf(EventValidationError);
      await expect(store.updateStatus('nope', 'processed')).rejects.toMatchObject({ field: 'id' });
      await expect(store.updateStatus(event.id, 'done' as 'processed')).rejects.toMatchObject({ field: 'status' });
      await expect(store.updateStatus(event.id, 'processed', '')).rejects.toMatchObject({ field: 'jobId' });
      expect(await store.findById(event.id)).toEqual(event);
    });
  });

  describe('prune', () => {
    const OLD = '2024-06-01T00:00:00.000Z';
    const CUTOFF = new Date('2025-01-01T00:00:00.000Z');
    const NEW = '2025-06-01T00:00:00.000Z';
    const saved = async (timestamp: string, status: StoredEvent['status'], metadata?: NewDomainEvent['metadata']) => {
      const event = await store.save(newEvent({ timestamp, metadata }));
      await store.updateStatus(event.id, status);
      return event;
    };
    const remaining = async (): Promise<string[]> => (await store.query()).map((event) => event.id);

    it('deletes processed events before the cutoff only; never pending or processing; failed only when asked', async () => {
      const oldProcessed = await saved(OLD, 'processed');
      const oldFailed = await saved(OLD, 'failed');
      const oldPending = await saved(OLD, 'pending');
      const oldProcessing = await saved(OLD, 'processing');
      const atCutoff = await saved(CUTOFF.toISOString(), 'processed');
      const newProcessed = await saved(NEW, 'processed');

      expect(await store.prune({ before: CUTOFF })).toBe(1);
      expect(await remaining()).toEqual([oldFailed.id, oldPending.id, oldProcessing.id, atCutoff.id, newProcessed.id]);
      expect(await store.findById(oldProcessed.id)).toBeNull();

      expect(await store.prune({ before: CUTOFF, status: 'failed' })).toBe(1);
      expect(await remaining()).toEqual([oldPending.id, oldProcessing.id, atCutoff.id, newProcessed.id]);
      expect(await store.prune({ before: CUTOFF, status: ['processed', 'failed'] })).toBe(0);
    });

    it("keeps each workflow stream's newest event, so the stream goes on from it; events without a workflow all go", async () => {
      const first = await saved(OLD, 'processed', { workflowId: 'wf-1' });
      const second = await saved(OLD, 'processed', { workflowId: 'wf-1' });
      const otherTenant = await store.save(
        newEvent({ timestamp: OLD, tenantId: TENANT_B, metadata: { workflowId: 'wf-1' } }),
      );
      await store.updateStatus(otherTenant.id, 'processed');
      const onlyOne = await saved(OLD, 'processed', { workflowId: 'wf-2' });
      await saved(OLD, 'processed');
      await saved(OLD, 'processed', { source: 'no workflow' });

      expect(await store.prune({ before: CUTOFF })).toBe(3);
      expect(await remaining()).toEqual([second.id, otherTenant.id, onlyOne.id]);
      expect(await store.findById(first.id)).toBeNull();

      // A newer event of the workflow makes the old head prunable, never the new one.
      const next = await saved(NEW, 'processed', { workflowId: 'wf-1' });
      expect(await store.prune({ before: CUTOFF })).toBe(1);
      expect(await store.getEventsByWorkflowId('wf-1', { tenantId: TENANT_A })).toEqual([
        expect.objectContaining({ id: next.id }),
      ]);
    });

    it('works in batches of batchSize: archive sees each batch before it is deleted', async () => {
      const events = await store.saveAll(
        Array.from({ length: 7 }, (_, index) => newEvent({ timestamp: `2024-06-0${index + 1}T00:00:00.000Z` })),
      );
      for (const event of events) await store.updateStatus(event.id, 'processed');
      const pending = await saved('2024-06-02T12:00:00.000Z', 'pending');
      const batches: string[][] = [];
      const deleted = await store.prune({
        before: CUTOFF,
        batchSize: 3,
        archive: async (batch) => void batches.push(batch.map((event) => event.id)),
      });
      expect(deleted).toBe(7);
      // Examined in timestamp order, three at a time: the pending one takes a place in the first batch.
      expect(batches).toEqual([
        [events[0].id, events[1].id],
        [events[2].id, events[3].id, events[4].id],
        [events[5].id, events[6].id],
      ]);
      expect(await remaining()).toEqual([pending.id]);
    });

    it('archives the events as stored, and deletes nothing of a batch whose archive rejects', async () => {
      const event = await saved(OLD, 'processed', { workflowId: 'wf-a' });
      await saved(NEW, 'processed', { workflowId: 'wf-a' });
      const failure = new Error('archive is down');
      await expect(store.prune({ before: CUTOFF, archive: async () => Promise.reject(failure) })).rejects.toBe(failure);
      expect(await store.findById(event.id)).not.toBeNull();
      const archived: StoredEvent[] = [];
      expect(await store.prune({ before: CUTOFF, archive: async (batch) => void archived.push(...batch) })).toBe(1);
      expect(archived).toEqual([{ ...event, status: 'processed' }]);
    });

    it('stops between batches when its signal aborts, resolving to what it deleted', async () => {
      const events = await store.saveAll(
        Array.from({ length: 4 }, (_, index) => newEvent({ timestamp: `2024-06-0${index + 1}T00:00:00.000Z` })),
      );
      for (const event of events) await store.updateStatus(event.id, 'processed');
      const stop = new AbortController();
      const deleted = await store.prune({
        before: CUTOFF,
        batchSize: 2,
        signal: stop.signal,
        archive: async () => stop.abort(),
      });
      expect(deleted).toBe(2);
      expect(await remaining()).toEqual([events[2].id, events[3].id]);
      expect(await store.prune({ before: CUTOFF, signal: stop.signal })).toBe(0);
    });

    it('rejects bad arguments with EventValidationError before deleting anything', async () => {
      const event = await saved(OLD, 'processed');
      const invalid = async (options: unknown, field: string): Promise<void> => {
        const error = await rejection(() => store.prune(options as never));
        expect(error).toBeInstanceOf(EventValidationError);
        expect(error).toMatchObject({ field });
      };
      await invalid(undefined, 'options');
      await invalid({}, 'before');
      await invalid({ before: '2025-01-01' }, 'before');
      await invalid({ before: new Date(Number.NaN) }, 'before');
      await invalid({ before: CUTOFF, status: 'pending' }, 'status');
      await invalid({ before: CUTOFF, status: ['processed', 'processing'] }, 'status');
      await invalid({ before: CUTOFF, status: [] }, 'status');
      await invalid({ before: CUTOFF, batchSize: 0 }, 'batchSize');
      await invalid({ before: CUTOFF, batchSize: 1.5 }, 'batchSize');
      await invalid({ before: CUTOFF, batchSize: 10_001 }, 'batchSize');
      await invalid({ before: CUTOFF, signal: {} }, 'signal');
      await invalid({ before: CUTOFF, archive: 'table' }, 'archive');
      await invalid(
        {
          get before() {
            throw new Error('unreadable');
          },
        },
        'before',
      );
      expect(await store.findById(event.id)).not.toBeNull();
    });
  });
}
