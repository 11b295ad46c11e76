import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EventValidationError, type NewDomainEvent, type PersistentEventStore } from '@app/event-bus';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { countRows, newEvent, storeFor } from './store-fixtures.js';

/** Every rule of DESIGN.md "Validation": each bad field is named, and nothing is written. */
describe('PersistentEventStore: validation before any write', () => {
  let db: TestDatabase;
  let store: PersistentEventStore;

  beforeAll(async () => {
    db = await createTestDatabase('store-validation');
    store = storeFor(db, 1024);
  });
  afterAll(() => db.drop());

  const circular: Record<string, unknown> = { a: 1 };
  circular.self = circular;
  const protoKey = JSON.parse('{"__proto__": 1}') as unknown;

  // [description, change to a valid event, field named first]
  const cases: [string, Record<string, unknown>, string][] = [
    ['id not a UUID', { id: 'not-a-uuid' }, 'id'],
    ['id null', { id: null }, 'id'],
    ['type not a string', { type: 42 }, 'type'],
    ['type empty', { type: '' }, 'type'],
    ['type with an empty segment', { type: 'workflow..started' }, 'type'],
    ['type ending with a dot', { type: 'workflow.' }, 'type'],
    ['type with a wildcard', { type: 'workflow.*' }, 'type'],
    ['type with a globstar', { type: 'workflow.**' }, 'type'],
    ['type with a space', { type: 'workflow started' }, 'type'],
    ['type with a segment __proto__', { type: 'a.__proto__' }, 'type'],
    ['type with a segment constructor', { type: 'constructor.b' }, 'type'],
    ['type with a segment prototype', { type: 'a.prototype.b' }, 'type'],
    ['type longer than 255 characters', { type: 'a'.repeat(256) }, 'type'],
    ['tenantId missing', { tenantId: undefined }, 'tenantId'],
    ['tenantId not a UUID', { tenantId: "' OR 1=1 --" }, 'tenantId'],
    ['timestamp not ISO-8601', { timestamp: 'March 7, 2025' }, 'timestamp'],
    ['timestamp without a time zone', { timestamp: '2025-01-01T00:00:00' }, 'timestamp'],
    ['timestamp not a real date', { timestamp: '2025-02-30T00:00:00Z' }, 'timestamp'],
    ['timestamp an invalid Date', { timestamp: new Date('nope') }, 'timestamp'],
    ['timestamp a number', { timestamp: 1735689600000 }, 'timestamp'],
    ['payload missing', { payload: undefined }, 'payload'],
    ['payload a function', { payload: () => 1 }, 'payload'],
    ['payload a symbol', { payload: { s: Symbol('s') } }, 'payload.s'],
    ['payload a BigInt', { payload: { n: 10n } }, 'payload.n'],
    ['payload with an undefined value', { payload: { a: undefined } }, 'payload.a'],
    ['payload with undefined in an array', { payload: { items: [1, undefined] } }, 'payload.items[1]'],
    ['payload NaN', { payload: { price: NaN } }, 'payload.price'],
    ['payload Infinity', { payload: { items: [{ price: Infinity }] } }, 'payload.items[0].price'],
    ['payload a Date', { payload: { at: new Date() } }, 'payload.at'],
    ['payload a Map', { payload: { m: new Map() } }, 'payload.m'],
    ['payload a Set', { payload: { s: new Set([1]) } }, 'payload.s'],
    ['payload a RegExp', { payload: { r: /x/ } }, 'payload.r'],
    ['payload a typed array', { payload: { bytes: new Uint8Array(2) } }, 'payload.bytes'],
    ['payload a Buffer', { payload: { bytes: Buffer.from('x') } }, 'payload.bytes'],
    ['payload circular', { payload: circular }, 'payload.self'],
    ['payload with \\u0000 in a string', { payload: { text: 'a\u0000b' } }, 'payload.text'],
    ['payload with \\u0000 in a key', { payload: { 'a\u0000b': 1 } }, 'payload["a\\u0000b"]'],
    ['payload with a key __proto__', { payload: protoKey }, 'payload.__proto__'],
    ['payload with a key constructor', { payload: { constructor: 1 } }, 'payload.constructor'],
    ['payload with a key prototype', { payload: { prototype: 1 } }, 'payload.prototype'],
    ['payload larger than maxPayloadBytes', { payload: 'x'.repeat(1100) }, 'payload'],
    ['metadata not an object', { metadata: 'wf-1' }, 'metadata'],
    ['metadata an array', { metadata: [] }, 'metadata'],
    ['metadata.workflowId empty', { metadata: { workflowId: '' } }, 'metadata.workflowId'],
    ['metadata.workflowId not a string', { metadata: { workflowId: 7 } }, 'metadata.workflowId'],
    ['metadata.jobId given by the caller', { metadata: { jobId: 'j1' } }, 'metadata.jobId'],
    ['metadata with a bad value', { metadata: { at: new Date() } }, 'metadata.at'],
  ];

  it.each(cases)('%s: rejected with the field named, nothing stored', async (_description, change, field) => {
    const event = { ...newEvent(), ...change } as NewDomainEvent;
    const error = await store.save(event).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(EventValidationError);
    expect((error as EventValidationError).field).toBe(field);
    expect((error as EventValidationError).index).toBeUndefined();
    expect(await countRows(db)).toBe(0);

    // The same event inside a batch rejects the whole batch and says which one it was.
    const batchError = await store.saveAll([newEvent(), event, newEvent()]).catch((caught: unknown) => caught);
    expect(batchError).toMatchObject({ name: 'EventValidationError', field, index: 1 });
    expect(await countRows(db)).toBe(0);
  });

  it('lists every bad field, the first one as `field`', async () => {
    const error = await store
      .save({ id: 'x', type: 'a..b', tenantId: 'y', payload: { a: NaN, b: [undefined] } })
      .catch((caught: unknown) => caught as EventValidationError);
    expect(error).toBeInstanceOf(EventValidationError);
    expect((error as EventValidationError).issues.map((issue) => issue.field)).toEqual([
      'id',
      'type',
      'tenantId',
      'payload.a',
      'payload.b[0]',
    ]);
    expect((error as EventValidationError).field).toBe('id');
    expect((error as EventValidationError).message).toContain('payload.b[0]');
  });

  it('rejects a non-object event and a non-array batch', async () => {
    await expect(store.save(null as unknown as NewDomainEvent)).rejects.toMatchObject({ field: 'event' });
    await expect(store.saveAll('x' as unknown as NewDomainEvent[])).rejects.toMatchObject({ field: 'events' });
    expect(await countRows(db)).toBe(0);
  });

  it('accepts the edge of every rule', async () => {
    class Point {
      constructor(
        readonly x: number,
        readonly y: number,
      ) {}
    }
    const stored = await store.save(
      newEvent({
        type: `${'a'.repeat(100)}.B_c-9.${'d'.repeat(148)}`,
        payload: { point: new Point(1, 2), list: [null, true, 'é', -0.5, { shared: 1 }], emoji: '😀' },
        metadata: { workflowId: 'w', nested: { ok: [1] } },
      }),
    );
    expect(stored.type).toHaveLength(255);
    expect(stored.payload).toEqual({
      point: { x: 1, y: 2 },
      list: [null, true, 'é', -0.5, { shared: 1 }],
      emoji: '😀',
    });
    expect(await countRows(db)).toBe(1);
  });
});
