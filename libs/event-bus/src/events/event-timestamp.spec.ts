import { describe, expect, it } from '@jest/globals';
import { normalizeTimestamp } from './event-timestamp.js';

describe('normalizeTimestamp', () => {
  it.each([
    ['2025-01-31T12:00:00.000Z', '2025-01-31T12:00:00.000Z'],
    ['2025-01-31T12:00:00Z', '2025-01-31T12:00:00.000Z'],
    ['2025-01-31T12:00Z', '2025-01-31T12:00:00.000Z'],
    ['2025-01-31t12:00:00z', '2025-01-31T12:00:00.000Z'],
    ['2025-01-31T13:00:00+01:00', '2025-01-31T12:00:00.000Z'],
    ['2025-01-31T13:00:00+0100', '2025-01-31T12:00:00.000Z'],
    ['2025-01-31T13:00:00+01', '2025-01-31T12:00:00.000Z'],
    ['2025-01-31T06:30:00-05:30', '2025-01-31T12:00:00.000Z'],
    ['2025-01-31T12:00:00.1Z', '2025-01-31T12:00:00.100Z'],
    ['2025-01-31T12:00:00,25Z', '2025-01-31T12:00:00.250Z'],
    ['2025-01-31T12:00:00.123456789Z', '2025-01-31T12:00:00.123Z'],
    ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00.000Z'],
    ['0001-01-01T00:00:00Z', '0001-01-01T00:00:00.000Z'],
  ])('accepts %s as %s', (input, iso) => expect(normalizeTimestamp(input)).toEqual({ iso }));

  it('accepts a valid Date', () => {
    expect(normalizeTimestamp(new Date(Date.UTC(2025, 0, 31, 12)))).toEqual({ iso: '2025-01-31T12:00:00.000Z' });
  });

  it.each([
    ['2025-01-31', /with a time zone/],
    ['2025-01-31T12:00:00', /with a time zone/],
    ['2025-01-31 12:00:00Z', /ISO-8601/],
    ['March 7, 2025', /ISO-8601/],
    ['1735646400000', /ISO-8601/],
    ['', /ISO-8601/],
    ['2025-02-30T00:00:00Z', /not a real date/],
    ['2023-02-29T00:00:00Z', /not a real date/],
    ['2025-13-01T00:00:00Z', /not a real date/],
    ['2025-01-31T24:00:00Z', /not a real date/],
    ['2025-01-31T12:60:00Z', /not a real date/],
    ['2025-01-31T12:00:60Z', /not a real date/],
  ])('rejects %p', (input, problem) => {
    const result = normalizeTimestamp(input);
    expect('problem' in result && result.problem).toMatch(problem);
  });

  it.each([
    [new Date('invalid'), /invalid Date/],
    [1735646400000, /string or a Date/],
    [null, /string or a Date/],
    [{}, /string or a Date/],
  ])('rejects %p', (input, problem) => {
    const result = normalizeTimestamp(input);
    expect('problem' in result && result.problem).toMatch(problem);
  });
});
