import { describe, expect, it } from '@jest/globals';
import { EventValidationError } from '../shared/errors.js';
import type { EventValidationIssue } from '../shared/errors.js';
import { MAX_ISSUES_PER_VALUE, MAX_JSON_DEPTH, serializeJsonValue } from './json-value.js';

function check(value: unknown, maxBytes = 1024 * 1024): { json?: string; issues: EventValidationIssue[] } {
  const issues: EventValidationIssue[] = [];
  const json = serializeJsonValue(value, { field: 'payload', maxBytes }, issues);
  return { json, issues };
}

function nested(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let level = 0; level < depth; level++) value = { next: value };
  return value;
}

describe('serializeJsonValue', () => {
  class Point {
    z = 3;
    constructor(
      readonly x: number,
      readonly y: number,
    ) {}
    get norm(): number {
      return Math.hypot(this.x, this.y);
    }
  }
  const shared = { s: 1 };

  it.each([
    ['null', null],
    ['true', true],
    ['a string', 'text é 😀 "quoted" \\ \n'],
    ['an integer', 42],
    ['a negative float', -0.125],
    ['a large number', 1e21],
    ['an empty object', {}],
    ['an empty array', []],
    ['nested data', { a: [1, { b: [null, 'x'] }], c: { d: {} } }],
    ['a class instance with data fields', new Point(1, 2)],
    ['an object without a prototype', Object.assign(Object.create(null) as object, { a: 1 })],
    ['the same object twice (not a cycle)', { a: shared, b: shared, list: [shared, shared] }],
    ['keys that look unusual', { '': 1, 'a b': 2, ключ: 3, __proto: 4, proto__: 5, Constructor: 6 }],
    ['a surrogate pair', '😀'],
    ['nesting at the limit', nested(MAX_JSON_DEPTH)],
  ])('accepts %s and returns its JSON', (_name, value) => {
    const { json, issues } = check(value);
    expect(issues).toEqual([]);
    expect(json).toBe(JSON.stringify(value));
  });

  const circular: Record<string, unknown> = { list: [] };
  (circular.list as unknown[]).push({ back: circular });
  const sparse: unknown[] = [1];
  sparse[2] = 3;
  const symbolKey = { a: 1, [Symbol('s')]: 2 };
  class WithToJson {
    toJSON(): string {
      return 'x';
    }
  }

  it.each([
    ['undefined at the root', undefined, 'payload', /undefined/],
    ['a function', { f: () => 1 }, 'payload.f', /a function, which is not JSON/],
    ['a symbol', { s: Symbol('s') }, 'payload.s', /a symbol/],
    ['a BigInt', { n: 1n }, 'payload.n', /BigInt.*as a string/],
    ['an undefined value', { a: { b: undefined } }, 'payload.a.b', /undefined, which JSON drops/],
    ['undefined in an array', [1, undefined], 'payload[1]', /undefined/],
    ['an array hole', sparse, 'payload[1]', /empty array slot/],
    ['NaN', { price: NaN }, 'payload.price', /NaN/],
    ['Infinity', { items: [{ price: Infinity }] }, 'payload.items[0].price', /Infinity/],
    ['-Infinity', [-Infinity], 'payload[0]', /-Infinity/],
    ['a Date', { at: new Date(0) }, 'payload.at', /toISOString/],
    ['a Map', { m: new Map([[1, 2]]) }, 'payload.m', /Map/],
    ['a Set', { s: new Set() }, 'payload.s', /Set.*array/],
    ['a WeakMap', { w: new WeakMap() }, 'payload.w', /WeakMap/],
    ['a RegExp', { r: /x/g }, 'payload.r', /RegExp/],
    ['a typed array', { t: new Float64Array(1) }, 'payload.t', /binary/],
    ['a Buffer', { b: Buffer.from('x') }, 'payload.b', /binary/],
    ['an ArrayBuffer', { b: new ArrayBuffer(1) }, 'payload.b', /binary/],
    ['an Error', { e: new Error('x') }, 'payload.e', /Error/],
    ['a Promise', { p: Promise.resolve() }, 'payload.p', /Promise/],
    ['a boxed string', { s: new String('x') }, 'payload.s', /String/],
    ['a toJSON method', { v: new WithToJson() }, 'payload.v', /toJSON/],
    ['a circular reference', circular, 'payload.list[0].back', /circular/],
    [
      'a self reference',
      (() => {
        const self: unknown[] = [];
        self.push(self);
        return self;
      })(),
      'payload[0]',
      /circular/,
    ],
    ['\\u0000 in a string', { s: 'a\u0000' }, 'payload.s', /\\u0000/],
    ['\\u0000 in a key', { 'k\u0000': 1 }, 'payload["k\\u0000"]', /key contains the character \\u0000/],
    ['an unpaired high surrogate', { s: 'a\uD83D' }, 'payload.s', /unpaired/],
    ['an unpaired low surrogate', ['\uDE00b'], 'payload[0]', /unpaired/],
    ['a key __proto__', JSON.parse('{"a": {"__proto__": {}}}'), 'payload.a.__proto__', /"__proto__" is not allowed/],
    ['a key constructor', { constructor: 'x' }, 'payload.constructor', /not allowed/],
    ['a key prototype', [{ prototype: 1 }], 'payload[0].prototype', /not allowed/],
    ['symbol keys', symbolKey, 'payload', /symbol keys/],
    ['nesting past the limit', nested(MAX_JSON_DEPTH + 1), `payload${'.next'.repeat(MAX_JSON_DEPTH)}`, /deeper than/],
    ['a non-identifier key in the path', { 'a b': [NaN] }, 'payload["a b"][0]', /NaN/],
  ])('rejects %s', (_name, value, field, message) => {
    const { json, issues } = check(value);
    expect(json).toBeUndefined();
    expect(issues[0]).toEqual({ field, message: expect.stringMatching(message) });
  });

  it('reports every problem in document order', () => {
    const { issues } = check({ a: NaN, b: [1, undefined, { c: () => 0 }], d: 'ok', e: new Date(0) });
    expect(issues.map((issue) => issue.field)).toEqual(['payload.a', 'payload.b[1]', 'payload.b[2].c', 'payload.e']);
  });

  it(`stops after ${MAX_ISSUES_PER_VALUE} problems`, () => {
    const { issues } = check(Array.from({ length: 1000 }, () => NaN));
    expect(issues).toHaveLength(MAX_ISSUES_PER_VALUE);
  });

  it('walks a very deep value without overflowing the stack', () => {
    let deep: unknown = null;
    for (let level = 0; level < 200_000; level++) deep = [deep];
    const { issues } = check(deep);
    expect(issues).toHaveLength(1);
    expect(issues[0].message).toMatch(/deeper than/);
  });

  it('walks a wide value', () => {
    const wide = Object.fromEntries(Array.from({ length: 50_000 }, (_, index) => [`k${index}`, [index]]));
    expect(check(wide).issues).toEqual([]);
  });

  it('measures the size in UTF-8 bytes of the JSON', () => {
    // '"é"' is 4 bytes in UTF-8 though 3 characters long.
    expect(check('é', 4)).toEqual({ json: '"é"', issues: [] });
    expect(check('é', 3).issues).toEqual([
      { field: 'payload', message: 'is more than 3 bytes as JSON, the limit (maxPayloadBytes)' },
    ]);
    expect(check({ a: 'x'.repeat(2000) }, 1024).issues[0].field).toBe('payload');
  });

  it('appends to the issues already collected and uses the given field name', () => {
    const issues: EventValidationIssue[] = [{ field: 'id', message: 'bad' }];
    serializeJsonValue({ x: undefined }, { field: 'metadata', maxBytes: 100 }, issues);
    expect(issues.map((issue) => issue.field)).toEqual(['id', 'metadata.x']);
  });

  describe('rejecting an oversized value costs work in proportion to the limit, not to the value', () => {
    /** `target` behind a Proxy that counts the properties read from it. */
    function counted<T extends object>(target: T): { value: T; reads: () => number } {
      let reads = 0;
      const value = new Proxy(target, {
        get(object, key, receiver) {
          reads++;
          return Reflect.get(object, key, receiver) as unknown;
        },
      });
      return { value, reads: () => reads };
    }
    const limit = 10_000;

    it('stops reading an object with many properties once the limit is passed', () => {
      const { value, reads } = counted(
        Object.fromEntries(Array.from({ length: 300_000 }, (_, index) => [`k${index}`, { n: index }])),
      );
      const { issues } = check(value, limit);
      expect(issues).toEqual([{ field: 'payload', message: expect.stringContaining('(maxPayloadBytes)') }]);
      // Each property read writes at least 4 bytes of JSON.
      expect(reads()).toBeLessThanOrEqual(limit / 4);
    });

    it('reads none of the items of an array too long to fit', () => {
      const { value, reads } = counted(Array.from({ length: 2_000_000 }, () => ({ n: 1 })));
      const { issues } = check({ items: value }, limit);
      expect(issues[0].message).toMatch(/more than 10000 bytes as JSON, the limit \(maxPayloadBytes\)/);
      expect(reads()).toBeLessThan(10);
    });

    it('stops in an array of small objects, each of which fits', () => {
      const items = Array.from({ length: 4_000 }, (_, index) => counted({ index }));
      const { issues } = check(
        items.map((item) => item.value),
        limit,
      );
      expect(issues[0].message).toContain('(maxPayloadBytes)');
      const read = items.reduce((sum, item) => sum + item.reads(), 0);
      expect(read).toBeLessThan(limit / 4);
    });

    it('does not scan a string longer than the limit', () => {
      expect(check('x'.repeat(50_000_000) + '\u0000', limit).issues[0].message).toContain('(maxPayloadBytes)');
    });
  });

  describe('a value whose reading throws', () => {
    it('is an EventValidationError naming the field, with the thrown error as cause', () => {
      const boom = new Error('boom');
      const payload = {
        a: {
          get b(): number {
            throw boom;
          },
        },
      };
      let error: unknown;
      try {
        check(payload);
      } catch (thrown) {
        error = thrown;
      }
      expect(error).toBeInstanceOf(EventValidationError);
      expect((error as EventValidationError).field).toBe('payload.a.b');
      expect((error as EventValidationError).cause).toBe(boom);
    });

    it('covers a revoked Proxy', () => {
      const { proxy, revoke } = Proxy.revocable({ a: 1 }, {});
      revoke();
      expect(() => check([proxy])).toThrow(EventValidationError);
      expect(() => check([proxy])).toThrow(/payload\[0\]: could not be read/);
    });
  });
});
