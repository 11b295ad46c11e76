import { describe, expect, it } from '@jest/globals';
import { derivedEventId } from './derived-event-id.js';

describe('derivedEventId', () => {
  it('is a version-5 UUID', () => {
    expect(derivedEventId('a', 'b')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('is the same for the same name and differs for another', () => {
    expect(derivedEventId('cause', 'next')).toBe(derivedEventId('cause', 'next'));
    expect(derivedEventId('cause', 'next')).not.toBe(derivedEventId('cause', 'completed'));
  });
});
