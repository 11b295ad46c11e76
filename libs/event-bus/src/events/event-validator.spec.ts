import { describe, expect, it } from '@jest/globals';
import { EventValidationError } from '../shared/errors.js';
import type { NewDomainEvent } from './domain-event.js';
import { prepareEvent, prepareEvents, validateEvent } from './event-validator.js';

const TENANT = '11111111-1111-4111-8111-111111111111';
const ID = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const valid = (overrides: Record<string, unknown> = {}): NewDomainEvent => ({
  id: ID,
  type: 'order.placed',
  tenantId: TENANT,
  timestamp: '2025-01-01T00:00:00Z',
  payload: { a: 1 },
  ...overrides,
});

function issuesOf(call: () => unknown): EventValidationError {
  try {
    call();
  } catch (error) {
    if (error instanceof EventValidationError) return error;
    throw error;
  }
  throw new Error('expected an EventValidationError');
}

describe('validateEvent', () => {
  it('returns the event normalized', () => {
    expect(
      validateEvent(
        valid({ id: ID.toUpperCase(), tenantId: TENANT.toUpperCase(), timestamp: '2025-01-01T01:00:00+01:00' }),
      ),
    ).toEqual({
      id: ID,
      type: 'order.placed',
      tenantId: TENANT,
      timestamp: '2025-01-01T00:00:00.000Z',
      payload: { a: 1 },
    });
  });

  it('fills in a missing id and timestamp', () => {
    const before = Date.now();
    const event = validateEvent({ type: 'a', tenantId: TENANT, payload: null });
    expect(event.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(Date.parse(event.timestamp)).toBeGreaterThanOrEqual(before);
    expect(event.payload).toBeNull();
  });

  it('keeps metadata, drops empty metadata', () => {
    expect(validateEvent(valid({ metadata: { workflowId: 'w', source: 's' } })).metadata).toEqual({
      workflowId: 'w',
      source: 's',
    });
    expect(validateEvent(valid({ metadata: {} }))).not.toHaveProperty('metadata');
    expect(validateEvent(valid({ metadata: undefined }))).not.toHaveProperty('metadata');
  });

  it.each([
    [{ id: 'x' }, 'id'],
    [{ id: null }, 'id'],
    [{ type: 'a.*' }, 'type'],
    [{ tenantId: '' }, 'tenantId'],
    [{ tenantId: null }, 'tenantId'],
    [{ timestamp: 'yesterday' }, 'timestamp'],
    [{ timestamp: null }, 'timestamp'],
    [{ payload: undefined }, 'payload'],
    [{ payload: { f: Symbol.iterator } }, 'payload.f'],
    [{ metadata: null }, 'metadata'],
    [{ metadata: 'x' }, 'metadata'],
    [{ metadata: [1] }, 'metadata'],
    [{ metadata: { jobId: 'j' } }, 'metadata.jobId'],
    [{ metadata: { jobId: undefined } }, 'metadata.jobId'],
    [{ metadata: { workflowId: '' } }, 'metadata.workflowId'],
    [{ metadata: { workflowId: null } }, 'metadata.workflowId'],
    [{ metadata: { x: 1n } }, 'metadata.x'],
  ])('rejects %p naming %s', (change, field) => {
    const error = issuesOf(() => validateEvent(valid(change)));
    expect(error.field).toBe(field);
    expect(error.index).toBeUndefined();
  });

  it('reports a missing payload even when the key is absent', () => {
    const { payload: _payload, ...rest } = valid();
    expect(issuesOf(() => validateEvent(rest as NewDomainEvent)).field).toBe('payload');
  });

  it('collects every issue', () => {
    const error = issuesOf(() =>
      validateEvent({
        id: 1,
        type: '',
        tenantId: 2,
        timestamp: 3,
        payload: undefined,
        metadata: 4,
      } as unknown as NewDomainEvent),
    );
    expect(error.issues.map((issue) => issue.field)).toEqual([
      'id',
      'type',
      'tenantId',
      'timestamp',
      'payload',
      'metadata',
    ]);
    expect(error.message).toMatch(/^Invalid event: id: must be a UUID, got a number; type: must not be empty/);
  });

  it.each([null, undefined, 'event', 1, []])('rejects %p as the event itself', (input) => {
    expect(issuesOf(() => validateEvent(input as unknown as NewDomainEvent)).field).toBe('event');
  });

  it('applies maxPayloadBytes to the payload and to the metadata', () => {
    expect(() => validateEvent(valid({ payload: 'x'.repeat(98) }), { maxPayloadBytes: 100 })).not.toThrow();
    expect(issuesOf(() => validateEvent(valid({ payload: 'x'.repeat(99) }), { maxPayloadBytes: 100 })).field).toBe(
      'payload',
    );
    expect(
      issuesOf(() => validateEvent(valid({ metadata: { k: 'x'.repeat(200) } }), { maxPayloadBytes: 100 })).field,
    ).toBe('metadata');
  });

  it('defaults to a 1 MiB limit', () => {
    expect(() => validateEvent(valid({ payload: 'x'.repeat(1024 * 1024 - 2) }))).not.toThrow();
    expect(() => validateEvent(valid({ payload: 'x'.repeat(1024 * 1024 - 1) }))).toThrow(EventValidationError);
  });
});

describe('prepareEvent(s)', () => {
  it('returns the JSON text to store and whether a timestamp was given', () => {
    const prepared = prepareEvent(valid({ metadata: { workflowId: 'w' } }));
    expect(prepared).toMatchObject({
      payloadJson: '{"a":1}',
      metadataJson: '{"workflowId":"w"}',
      timestampGiven: true,
    });
    const { timestamp: _timestamp, ...withoutTimestamp } = valid();
    expect(prepareEvent(withoutTimestamp)).toMatchObject({ metadataJson: null, timestampGiven: false });
  });

  it('names the index of the first bad event of a batch', () => {
    const error = issuesOf(() => prepareEvents([valid(), valid(), valid({ type: '' }), valid({ id: 'x' })]));
    expect(error.index).toBe(2);
    expect(error.message).toContain('event #2 of the batch');
  });

  it('rejects a batch that is not an array', () => {
    expect(issuesOf(() => prepareEvents({} as unknown as NewDomainEvent[])).field).toBe('events');
  });
});

describe('values PostgreSQL cannot take, and inputs whose reading throws', () => {
  it.each<[string, unknown]>([
    ['a Map', new Map([['workflowId', 'wf-1']])],
    ['a Date', new Date(0)],
    ['a Set', new Set()],
    ['a class instance of a built-in (RegExp)', /x/],
  ])('rejects %s as metadata instead of dropping it', (_label, metadata) => {
    const error = issuesOf(() => validateEvent(valid({ metadata })));
    expect(error.field).toBe('metadata');
    expect(error.message).toContain('must be a plain object');
  });

  it('rejects a workflowId longer than its index takes (255 characters)', () => {
    const metadata = { workflowId: 'w'.repeat(256) };
    expect(issuesOf(() => validateEvent(valid({ metadata }))).field).toBe('metadata.workflowId');
  });

  it.each<[string, unknown]>([
    ['year 0 as text', '0000-01-01T00:00:00Z'],
    ['year 0 as a Date', new Date('0000-06-01T00:00:00.000Z')],
    ['the latest JavaScript date', new Date(8.64e15)],
    ['the earliest JavaScript date', new Date(-8.64e15)],
    ['an offset that moves year 1 into year 0', '0001-01-01T00:00:00+01:00'],
  ])('rejects %s as a timestamp', (_label, timestamp) => {
    const error = issuesOf(() => validateEvent(valid({ timestamp })));
    expect(error.field).toBe('timestamp');
    expect(error.message).toContain('years 1 to 9999');
  });

  it('accepts the first and last instant of years 1 to 9999', () => {
    expect(validateEvent(valid({ timestamp: '0001-01-01T00:00:00Z' })).timestamp).toBe('0001-01-01T00:00:00.000Z');
    expect(validateEvent(valid({ timestamp: new Date('9999-12-31T23:59:59.999Z') })).timestamp).toBe(
      '9999-12-31T23:59:59.999Z',
    );
  });

  const boom = new Error('boom');
  const throwing = (field: string, base: object = valid()): object =>
    Object.defineProperty({ ...base }, field, {
      enumerable: true,
      get() {
        throw boom;
      },
    });

  it.each(['id', 'type', 'tenantId', 'timestamp', 'payload', 'metadata'])(
    'names the field %s when reading it throws, with the thrown error as cause',
    (field) => {
      const error = issuesOf(() => validateEvent(throwing(field) as NewDomainEvent));
      expect(error.field).toBe(field);
      expect(error.cause).toBe(boom);
    },
  );

  it('names a metadata field whose reading throws', () => {
    const error = issuesOf(() => validateEvent(valid({ metadata: throwing('workflowId', {}) })));
    expect(error.field).toMatch(/^metadata/);
    expect(error.cause).toBe(boom);
  });

  it('names a revoked Proxy as the event, and its batch position', () => {
    const { proxy, revoke } = Proxy.revocable(valid(), {});
    revoke();
    const error = issuesOf(() => prepareEvents([valid(), proxy]));
    expect(error.field).toBe('event');
    expect(error.index).toBe(1);
    expect(error.cause).toBeInstanceOf(TypeError);
  });
});
