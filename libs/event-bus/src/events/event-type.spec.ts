import { describe, expect, it } from '@jest/globals';
import { describeValue, eventTypeProblem, isValidEventType } from './event-type.js';

describe('event types', () => {
  it.each([
    'a',
    'workflow.started',
    'workflow.node.triggered',
    'Order_Placed.v-2',
    '9.9',
    'a'.repeat(255),
    'x.__proto',
    'proto__.y',
  ])('accepts %s', (type) => {
    expect(eventTypeProblem(type)).toBeUndefined();
    expect(isValidEventType(type)).toBe(true);
  });

  it.each([
    [42, /must be a string, got a number/],
    [null, /must be a string, got null/],
    [undefined, /must be a string, got undefined/],
    ['', /must not be empty/],
    ['.a', /empty segment/],
    ['a.', /empty segment/],
    ['a..b', /empty segment/],
    ['a.*', /wildcard/],
    ['**', /wildcard/],
    ['a.b*', /wildcard/],
    ['a b', /letters, digits/],
    ['a/b', /letters, digits/],
    ['a:b', /letters, digits/],
    ['é', /letters, digits/],
    ['a.__proto__', /segment named "__proto__"/],
    ['constructor', /segment named "constructor"/],
    ['a.prototype.b', /segment named "prototype"/],
    ['a'.repeat(256), /at most 255 characters, got 256/],
  ])('rejects %p', (type, problem) => {
    expect(eventTypeProblem(type)).toMatch(problem);
    expect(isValidEventType(type)).toBe(false);
  });
});

describe('describeValue', () => {
  class Order {}
  it.each([
    [null, 'null'],
    [undefined, 'undefined'],
    [[], 'an array'],
    [{}, 'an object'],
    [Object.create(null), 'an object'],
    [new Order(), 'an Order'],
    [new (class Point {})(), 'a Point'],
    [new Map(), 'a Map'],
    [NaN, 'NaN'],
    [-Infinity, '-Infinity'],
    [1, 'a number'],
    ['s', 'a string'],
    [1n, 'a bigint'],
  ])('describes %p as %s', (value, description) => expect(describeValue(value)).toBe(description));
});
