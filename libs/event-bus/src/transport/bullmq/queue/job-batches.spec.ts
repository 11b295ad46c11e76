import { describe, expect, it } from '@jest/globals';
import type { StoredEvent } from '../../../events/domain-event.js';
import { splitIntoJobBatches } from './job-batches.js';

function events(count: number, payload: unknown = { n: 1 }): StoredEvent[] {
  return Array.from({ length: count }, (_, index) => ({
    id: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
    type: 'workflow.started',
    timestamp: '2026-01-01T00:00:00.000Z',
    tenantId: '11111111-1111-4111-8111-111111111111',
    payload,
    metadata: {},
    sequenceNumber: index + 1,
    version: null,
    status: 'pending',
    createdAt: '2026-01-01T00:00:00.000Z',
  }));
}

const sizes = (batches: StoredEvent[][]): number[] => batches.map((batch) => batch.length);

describe('splitIntoJobBatches', () => {
  it('cuts the events into batches of at most maxEvents, in order', () => {
    const all = events(10);
    const batches = splitIntoJobBatches(all, 4);
    expect(sizes(batches)).toEqual([4, 4, 2]);
    expect(batches.flat()).toEqual(all);
  });

  it('makes one batch per event with maxEvents 1, and none for no events', () => {
    expect(sizes(splitIntoJobBatches(events(3), 1))).toEqual([1, 1, 1]);
    expect(splitIntoJobBatches([], 100)).toEqual([]);
  });

  it('closes a batch before its payloads pass the byte budget', () => {
    const payload = { text: 'x'.repeat(290) }; // 301 bytes of JSON
    expect(sizes(splitIntoJobBatches(events(7, payload), 100, 1000))).toEqual([3, 3, 1]);
  });

  it('gives an event larger than the budget a batch of its own', () => {
    const large = { text: 'x'.repeat(5000) };
    const all = [...events(2), ...events(1, large), ...events(2)];
    expect(sizes(splitIntoJobBatches(all, 100, 1000))).toEqual([2, 1, 2]);
  });
});
