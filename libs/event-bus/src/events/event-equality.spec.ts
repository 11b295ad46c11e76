import { describe, expect, it } from '@jest/globals';
import { differingFields, jsonEqual } from './event-equality.js';
import { prepareEvent } from './event-validator.js';
import type { DomainEvent } from './domain-event.js';

describe('jsonEqual', () => {
  it.each([
    [1, 1],
    [null, null],
    ['a', 'a'],
    [
      { a: 1, b: 2 },
      { b: 2, a: 1 },
    ],
    [{ a: [1, { x: 1, y: 2 }] }, { a: [1, { y: 2, x: 1 }] }],
    [[], []],
    [{}, {}],
    [0, -0],
  ])('%p equals %p', (a, b) => expect(jsonEqual(a, b)).toBe(true));

  it.each([
    [1, '1'],
    [null, {}],
    [[], {}],
    [{}, []],
    [
      [1, 2],
      [2, 1],
    ],
    [[1], [1, 1]],
    [{ a: 1 }, { a: 1, b: 2 }],
    [
      { a: 1, b: 2 },
      { a: 1, c: 2 },
    ],
    [{ a: null }, {}],
    [{ a: { b: 1 } }, { a: { b: 2 } }],
    [true, 1],
  ])('%p differs from %p', (a, b) => {
    expect(jsonEqual(a, b)).toBe(false);
    expect(jsonEqual(b, a)).toBe(false);
  });
});

describe('differingFields', () => {
  const stored: DomainEvent = {
    id: 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa',
    type: 'a.b',
    tenantId: '11111111-1111-4111-8111-111111111111',
    timestamp: '2025-01-01T00:00:00.000Z',
    payload: { x: 1, y: [1, 2] },
    metadata: { workflowId: 'w', jobId: 'job-1' },
  };
  const { metadata: _metadata, ...rest } = stored;
  const incoming = (changes: Partial<DomainEvent> & { timestamp?: string }) =>
    prepareEvent({ ...rest, metadata: { workflowId: 'w' }, ...changes });

  it('finds nothing for the same event, whatever the key order, ignoring the stored jobId', () => {
    expect(differingFields(stored, incoming({ payload: { y: [1, 2], x: 1 } }))).toEqual([]);
  });

  it('compares the timestamp as an instant, and only when the caller gave one', () => {
    expect(differingFields(stored, incoming({ timestamp: '2025-01-01T02:00:00+02:00' }))).toEqual([]);
    expect(differingFields(stored, incoming({ timestamp: '2025-01-01T00:00:01Z' }))).toEqual(['timestamp']);
    const withoutTimestamp = prepareEvent({ ...rest, timestamp: undefined, metadata: { workflowId: 'w' } });
    expect(differingFields(stored, withoutTimestamp)).toEqual([]);
  });

  it('lists each differing field', () => {
    expect(
      differingFields(
        stored,
        incoming({
          type: 'a.c',
          tenantId: '22222222-2222-4222-8222-222222222222',
          payload: 1,
          metadata: { workflowId: 'v' },
        }),
      ),
    ).toEqual(['type', 'tenantId', 'payload', 'metadata']);
  });

  it('ignores the trace context: a repeat published from another trace is the same event', () => {
    const traced = { ...stored, metadata: { workflowId: 'w', traceparent: '00-aa-bb-01', tracestate: 'k=v' } };
    expect(differingFields(traced, incoming({ metadata: { workflowId: 'w', traceparent: '00-cc-dd-01' } }))).toEqual(
      [],
    );
    expect(differingFields(traced, incoming({}))).toEqual([]);
  });

  it('treats absent and empty metadata alike', () => {
    const bare = { ...stored, metadata: undefined };
    expect(differingFields(bare, prepareEvent({ ...rest, metadata: {} }))).toEqual([]);
    expect(differingFields({ ...stored, metadata: { jobId: 'j' } }, prepareEvent(rest))).toEqual([]);
    expect(differingFields(bare, incoming({}))).toEqual(['metadata']);
  });
});
