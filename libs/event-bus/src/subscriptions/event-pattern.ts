import { InvalidEventPatternError } from '../shared/errors.js';

/**
 * Subscription patterns, compiled once into a matcher.
 *
 * Segments are separated by `.`; `*` matches exactly one segment; `**` matches zero or more
 * segments anywhere. Any other segment is a literal compared case-sensitively, and follows the
 * event type rules (letters, digits, `_`, `-`).
 *
 * Matching walks segments with the classic two-pointer wildcard algorithm (`**` as "any run",
 * `*` as "any one"), which backtracks only to the last `**`: O(segments × pattern segments) at
 * worst, never exponential like a regex with nested `.*` can be (`**.**.**.x`).
 */

export const MAX_EVENT_PATTERN_LENGTH = 255;
const LITERAL_SEGMENT = /^[A-Za-z0-9_-]+$/;
const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'constructor', 'prototype']);

const ONE = '*';
const ANY = '**';

export interface EventPatternMatcher {
  /** The pattern as written. */
  readonly pattern: string;
  /** True when an event of this type is delivered to a handler subscribed with the pattern. */
  matches(eventType: string): boolean;
}

/** Validates a pattern and returns its matcher. Throws `InvalidEventPatternError` saying what is wrong. */
export function compileEventPattern(pattern: string): EventPatternMatcher {
  const segments = parseEventPattern(pattern);
  if (!segments.some(isWildcard)) return { pattern, matches: (type) => type === pattern };
  if (segments.length === 1 && segments[0] === ANY) return { pattern, matches: () => true };
  if (!segments.includes(ANY)) {
    return { pattern, matches: (type) => matchFixedLength(segments, type.split('.')) };
  }
  return { pattern, matches: (type) => matchSegments(segments, type.split('.')) };
}

/** Throws `InvalidEventPatternError` unless the pattern is valid. */
export function validateEventPattern(pattern: unknown): asserts pattern is string {
  parseEventPattern(pattern);
}

/** What is wrong with a pattern, or `undefined` when it is valid (for callers that add their own context). */
export function eventPatternProblem(pattern: unknown): string | undefined {
  const parsed = parse(pattern);
  return typeof parsed === 'string' ? parsed : undefined;
}

/** One-off test of a pattern against an event type; compile once with `compileEventPattern` when reused. */
export function matchesEventPattern(pattern: string, eventType: string): boolean {
  return compileEventPattern(pattern).matches(eventType);
}

function parseEventPattern(pattern: unknown): string[] {
  const parsed = parse(pattern);
  if (typeof parsed !== 'string') return parsed;
  const shown = typeof pattern === 'string' && pattern.length > 60 ? `${pattern.slice(0, 40)}...` : String(pattern);
  throw new InvalidEventPatternError(shown, parsed);
}

/** The pattern's segments, with runs of `**` folded into one (`**.**` means the same as `**`); or the problem. */
function parse(pattern: unknown): string[] | string {
  if (typeof pattern !== 'string') return `a pattern must be a string, got ${typeof pattern}`;
  if (pattern.length === 0) return 'a pattern must not be empty';
  if (pattern.length > MAX_EVENT_PATTERN_LENGTH) {
    return `a pattern has at most ${MAX_EVENT_PATTERN_LENGTH} characters, got ${pattern.length}`;
  }
  const segments: string[] = [];
  for (const [index, segment] of pattern.split('.').entries()) {
    const problem = segmentProblem(segment, index);
    if (problem) return problem;
    if (segment === ANY && segments.at(-1) === ANY) continue;
    segments.push(segment);
  }
  return segments;
}

function segmentProblem(segment: string, index: number): string | undefined {
  if (isWildcard(segment)) return undefined;
  if (segment === '') return `segment ${index + 1} is empty (no leading, trailing or double dots)`;
  if (!LITERAL_SEGMENT.test(segment)) {
    return `segment "${segment}" may hold only letters, digits, "_" and "-", or be exactly "*" (one segment) or "**" (any number of segments)`;
  }
  if (FORBIDDEN_SEGMENTS.has(segment)) return `segment "${segment}" is a reserved name`;
  return undefined;
}

function isWildcard(segment: string): boolean {
  return segment === ONE || segment === ANY;
}

function matchFixedLength(pattern: readonly string[], type: readonly string[]): boolean {
  if (pattern.length !== type.length) return false;
  return pattern.every((segment, i) => matchesOne(segment, type[i]));
}

/** A literal matches itself; `*` matches any one segment, but never an empty one. */
function matchesOne(segment: string, typeSegment: string | undefined): boolean {
  return segment === ONE ? typeSegment !== undefined && typeSegment !== '' : segment === typeSegment;
}

/** Two-pointer wildcard matching over segments, backtracking only to the most recent `**`. */
function matchSegments(pattern: readonly string[], type: readonly string[]): boolean {
  let p = 0;
  let t = 0;
  let lastAny = -1; // pattern index of the last `**` seen
  let resumeAt = 0; // type index that `**` has absorbed up to
  while (t < type.length) {
    const segment = pattern[p];
    if (segment === ANY) {
      lastAny = p++;
      resumeAt = t;
    } else if (segment !== undefined && matchesOne(segment, type[t])) {
      p++;
      t++;
    } else if (lastAny >= 0) {
      // Let the last `**` absorb one more segment and retry the rest of the pattern after it.
      p = lastAny + 1;
      t = ++resumeAt;
    } else {
      return false;
    }
  }
  while (pattern[p] === ANY) p++;
  return p === pattern.length;
}
