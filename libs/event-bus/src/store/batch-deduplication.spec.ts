import { describe, expect, it } from '@jest/globals';
import { EventConflictError } from '../shared/errors.js';
import { prepareEvents } from '../events/event-validator.js';
import { deduplicateBatch } from './batch-deduplication.js';

const TENANT = '11111111-1111-4111-8111-111111111111';
const A = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const B = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb';
const event = (id: string, payload: unknown, timestamp?: string) => ({
  id,
  type: 't',
  tenantId: TENANT,
  payload,
  timestamp,
});

describe('deduplicateBatch', () => {
  it('keeps a batch without repeats as it is', () => {
    const batch = prepareEvents([event(A, 1), event(B, 2)]);
    expect(deduplicateBatch(batch)).toEqual({ unique: batch, firstOccurrence: [true, true] });
  });

  it('keeps the first of identical repeats', () => {
    const batch = prepareEvents([event(A, { x: 1, y: 2 }), event(B, 2), event(A.toUpperCase(), { y: 2, x: 1 })]);
    const { unique, firstOccurrence } = deduplicateBatch(batch);
    expect(unique).toEqual([batch[0], batch[1]]);
    expect(firstOccurrence).toEqual([true, true, false]);
  });

  it('lets a repeat without a timestamp match the first', () => {
    const batch = prepareEvents([event(A, 1, '2025-01-01T00:00:00Z'), event(A, 1)]);
    expect(deduplicateBatch(batch).unique).toHaveLength(1);
  });

  it('rejects a repeat with different content, naming the fields', () => {
    const batch = prepareEvents([
      event(A, 1, '2025-01-01T00:00:00Z'),
      event(B, 1),
      event(A, 2, '2025-01-02T00:00:00Z'),
    ]);
    const error = (() => {
      try {
        deduplicateBatch(batch);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(EventConflictError);
    expect(error).toMatchObject({ eventId: A, fields: ['payload', 'timestamp'] });
  });
});
