import { describe, expect, it } from '@jest/globals';
import { InvalidEventPatternError } from '../shared/errors.js';
import {
  compileEventPattern,
  eventPatternProblem,
  matchesEventPattern,
  validateEventPattern,
} from './event-pattern.js';

describe('compileEventPattern: matching', () => {
  it.each<[string, string[], string[]]>([
    // [pattern, types it matches, types it does not match]
    [
      'workflow.started',
      ['workflow.started'],
      ['workflow', 'workflow.started.x', 'Workflow.started', 'workflow.Started', 'x.workflow.started'],
    ],
    ['workflow.*', ['workflow.started', 'workflow.failed'], ['workflow', 'workflow.node.triggered', 'other.started']],
    [
      'workflow.**',
      ['workflow', 'workflow.started', 'workflow.node.triggered', 'workflow.a.b.c.d'],
      ['workflows', 'other', 'other.workflow', 'WORKFLOW.started'],
    ],
    [
      '**.failed',
      ['failed', 'workflow.failed', 'workflow.node.failed'],
      ['failed.x', 'workflow.failed.again', 'workflow.notfailed'],
    ],
    ['**', ['a', 'workflow.node.triggered', 'x.y.z.w.v'], []],
    ['*', ['a', 'workflow'], ['a.b', 'a.b.c']],
    ['*.*', ['a.b'], ['a', 'a.b.c']],
    ['a.**.b', ['a.b', 'a.x.b', 'a.x.y.b', 'a.b.b', 'a.b.x.b'], ['a', 'b', 'a.b.c', 'x.a.b', 'a.x']],
    [
      'workflow.*.failed',
      ['workflow.node.failed'],
      ['workflow.failed', 'workflow.a.b.failed', 'workflow.node.failed.x'],
    ],
    ['*.node.**', ['workflow.node', 'workflow.node.failed', 'x.node.a.b'], ['node', 'node.failed', 'workflow.x.node']],
    ['**.*', ['a', 'a.b', 'a.b.c'], []],
    ['*.**', ['a', 'a.b', 'a.b.c'], []],
    ['**.*.**', ['a', 'a.b.c'], []],
    ['**.a.**', ['a', 'x.a', 'a.x', 'x.a.y', 'x.y.a.z.w'], ['b', 'x.y', 'ab', 'x.ab.y']],
    ['**.**', ['a', 'a.b.c'], []],
    ['**.**.**.x', ['x', 'a.x', 'a.b.c.x'], ['a', 'x.a', 'a.b.c']],
    ['a.*.**.*', ['a.b.c', 'a.b.c.d', 'a.1.2.3.4'], ['a', 'a.b']],
    ['**.b.*', ['b.x', 'a.b.x', 'b.b.x', 'a.b.a.b.x'], ['b', 'a.b', 'a.b.x.y']],
    ['node_1.step-2', ['node_1.step-2'], ['node_1.step_2', 'node-1.step-2']],
  ])('%s', (pattern, matching, notMatching) => {
    const matcher = compileEventPattern(pattern);
    expect(matcher.pattern).toBe(pattern);
    for (const type of matching) expect([type, matcher.matches(type)]).toEqual([type, true]);
    for (const type of notMatching) expect([type, matcher.matches(type)]).toEqual([type, false]);
  });

  it('never lets `*` match an empty segment', () => {
    expect(matchesEventPattern('*', '')).toBe(false);
    expect(matchesEventPattern('a.*', 'a.')).toBe(false);
    expect(matchesEventPattern('**.*', 'a.')).toBe(false);
  });

  it('handles pathological patterns in a bounded number of steps', () => {
    // A backtracking regex (^(?:.*\.)?a\.(?:.*\.)?a … $) explodes on this pair; the segment walk does not.
    const pattern = Array.from({ length: 50 }, () => '**.a').join('.') + '.**.b';
    const almost = Array.from({ length: 150 }, () => 'a').join('.');
    const matcher = compileEventPattern(pattern);
    expect(matcher.matches(almost)).toBe(false);
    expect(matcher.matches(`${almost}.b`)).toBe(true);
    expect(matcher.matches(`${almost}.b.c`)).toBe(false);
  });
});

/**
 * A deliberately naive recursive matcher (exponential, fine for tiny inputs) that restates the rules,
 * to check the compiled matcher on every small combination.
 */
function reference(pattern: readonly string[], type: readonly string[]): boolean {
  if (pattern.length === 0) return type.length === 0;
  const [head, ...rest] = pattern;
  if (head === '**') return type.some((_, i) => reference(rest, type.slice(i))) || reference(rest, []);
  if (type.length === 0) return false;
  return (head === '*' || head === type[0]) && reference(rest, type.slice(1));
}

function sequences(alphabet: readonly string[], maxLength: number, minLength: number): string[][] {
  const out: string[][] = [];
  const grow = (prefix: string[]) => {
    if (prefix.length >= minLength) out.push(prefix);
    if (prefix.length === maxLength) return;
    for (const symbol of alphabet) grow([...prefix, symbol]);
  };
  grow([]);
  return out;
}

describe('compileEventPattern: agrees with the rules on every small case', () => {
  const patterns = sequences(['a', 'b', '*', '**'], 5, 1);
  const types = sequences(['a', 'b'], 6, 1);

  it(`checks ${patterns.length} patterns against ${types.length} types`, () => {
    let checked = 0;
    const disagreements: string[] = [];
    for (const pattern of patterns) {
      const matcher = compileEventPattern(pattern.join('.'));
      for (const type of types) {
        checked += 1;
        if (matcher.matches(type.join('.')) !== reference(pattern, type)) {
          disagreements.push(`${pattern.join('.')} vs ${type.join('.')}`);
        }
      }
    }
    expect(disagreements).toEqual([]);
    expect(checked).toBe(patterns.length * types.length);
  });
});

describe('compileEventPattern: validation', () => {
  it.each([
    ['', 'must not be empty'],
    ['.a', 'segment 1 is empty'],
    ['a.', 'segment 2 is empty'],
    ['a..b', 'segment 2 is empty'],
    ['.', 'is empty'],
    ['wf*', 'segment "wf*"'],
    ['a?', 'segment "a?"'],
    ['a.***', 'segment "***"'],
    ['a.*b', 'segment "*b"'],
    ['a b', 'segment "a b"'],
    ['a/b', 'segment "a/b"'],
    ['a:b', 'segment "a:b"'],
    ['[ab]', 'segment "[ab]"'],
    ['a.{b,c}', 'segment "{b,c}"'],
    ['é', 'segment "é"'],
    ['a.__proto__', 'reserved'],
    ['constructor', 'reserved'],
    ['x.prototype.*', 'reserved'],
    ['a'.repeat(256), 'at most 255 characters, got 256'],
  ])('refuses %j', (pattern, reason) => {
    let caught: unknown;
    try {
      compileEventPattern(pattern);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidEventPatternError);
    expect((caught as Error).message).toContain(reason);
  });

  it('names the pattern in the error', () => {
    expect(() => compileEventPattern('workflow.node*')).toThrow('Invalid event pattern "workflow.node*"');
  });

  it('accepts a pattern of exactly 255 characters', () => {
    expect(compileEventPattern('a'.repeat(255)).matches('a'.repeat(255))).toBe(true);
  });

  it.each([undefined, null, 42, ['a'], {}])('refuses a non-string pattern (%p)', (pattern) => {
    expect(() => validateEventPattern(pattern)).toThrow(InvalidEventPatternError);
  });

  it('accepts valid patterns without throwing', () => {
    for (const pattern of ['a', 'A-b_c.9', '*', '**', 'a.**.*.b', 'Constructor', 'proto']) {
      expect(() => validateEventPattern(pattern)).not.toThrow();
    }
  });
});

describe('eventPatternProblem', () => {
  it('returns the reason for an invalid pattern and undefined for a valid one', () => {
    expect(eventPatternProblem('a..b')).toBe('segment 2 is empty (no leading, trailing or double dots)');
    expect(eventPatternProblem(7)).toBe('a pattern must be a string, got number');
    expect(eventPatternProblem('a.**.b')).toBeUndefined();
  });
});
