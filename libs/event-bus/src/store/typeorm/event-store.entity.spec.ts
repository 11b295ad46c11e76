import { describe, expect, it } from '@jest/globals';
import { bigintToNumber, eventBusEntities, EventStoreEntity } from './event-store.entity.js';

describe('event store entity', () => {
  it('turns BIGINT strings into numbers and refuses unsafe ones', () => {
    expect(bigintToNumber.from('42')).toBe(42);
    expect(bigintToNumber.from(null)).toBeNull();
    expect(() => bigintToNumber.from('9007199254740993')).toThrow(RangeError);
    expect(bigintToNumber.to(5)).toBe(5);
  });

  it('is listed among the entities the library needs', () => {
    expect(eventBusEntities).toContain(EventStoreEntity);
  });
});
