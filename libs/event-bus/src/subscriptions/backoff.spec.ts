import { describe, expect, it } from '@jest/globals';
import { EventBusConfigurationError } from '../shared/errors.js';
import { computeBackoffDelay, MAX_BACKOFF_DELAY_MS, validateRetryPolicy } from './backoff.js';
import { DEFAULT_RETRY_POLICY, type BackoffFunction, type RetryPolicy } from './retry-policy.js';

const boom = new Error('boom');
const fixedRandom = (value: number) => () => value;

describe('computeBackoffDelay', () => {
  it.each([
    // [type, delay, maxDelay, attempt, expected]
    ['fixed', 100, undefined, 1, 100],
    ['fixed', 100, undefined, 7, 100],
    ['fixed', 0, undefined, 3, 0],
    ['exponential', 100, undefined, 1, 100],
    ['exponential', 100, undefined, 2, 200],
    ['exponential', 100, undefined, 3, 400],
    ['exponential', 100, undefined, 10, 51_200],
    ['exponential', 100, 1000, 4, 800],
    ['exponential', 100, 1000, 5, 1000],
    ['exponential', 100, 1000, 50, 1000],
    ['exponential', 1.4, undefined, 1, 1],
    ['exponential', 1.5, undefined, 1, 2],
  ] as const)('%s delay %d maxDelay %s after attempt %d waits %d ms', (type, delay, maxDelay, attempt, expected) => {
    const policy: RetryPolicy = { maxAttempts: 100, backoff: { type, delay, maxDelay } };
    expect(computeBackoffDelay(policy, attempt, boom)).toBe(expected);
  });

  it('follows the default policy: 1 s, then 2 s', () => {
    expect(computeBackoffDelay(DEFAULT_RETRY_POLICY, 1, boom)).toBe(1000);
    expect(computeBackoffDelay(DEFAULT_RETRY_POLICY, 2, boom)).toBe(2000);
  });

  it('caps unbounded exponential growth at MAX_BACKOFF_DELAY_MS', () => {
    const policy: RetryPolicy = { maxAttempts: 5000, backoff: { type: 'exponential', delay: 1000 } };
    expect(computeBackoffDelay(policy, 40, boom)).toBe(MAX_BACKOFF_DELAY_MS);
    expect(computeBackoffDelay(policy, 2000, boom)).toBe(MAX_BACKOFF_DELAY_MS);
  });

  it.each([
    // [type, delay, jitter, attempt, random, expected]
    ['fixed', 1000, 0.5, 1, 0, 1000],
    ['fixed', 1000, 0.5, 1, 0.5, 750],
    ['fixed', 1000, 0.5, 1, 0.998, 501],
    ['fixed', 1000, 1, 1, 0.25, 750],
    ['exponential', 100, 0.2, 3, 0.5, 360],
    ['exponential', 100, 0, 3, 0.9, 400],
  ] as const)(
    '%s %d ms with jitter %d after attempt %d and random %d waits %d ms',
    (type, delay, jitter, attempt, r, expected) => {
      const policy: RetryPolicy = { maxAttempts: 10, backoff: { type, delay, jitter } };
      expect(computeBackoffDelay(policy, attempt, boom, fixedRandom(r))).toBe(expected);
    },
  );

  it('applies jitter after the maxDelay cap', () => {
    const policy: RetryPolicy = {
      maxAttempts: 10,
      backoff: { type: 'exponential', delay: 100, maxDelay: 300, jitter: 0.5 },
    };
    expect(computeBackoffDelay(policy, 5, boom, fixedRandom(1))).toBe(150);
  });

  it('calls random only when there is jitter', () => {
    let calls = 0;
    const counting = () => {
      calls += 1;
      return 0.5;
    };
    computeBackoffDelay({ maxAttempts: 3, backoff: { type: 'fixed', delay: 10 } }, 1, boom, counting);
    expect(calls).toBe(0);
    computeBackoffDelay({ maxAttempts: 3, backoff: { type: 'fixed', delay: 10, jitter: 0.1 } }, 1, boom, counting);
    expect(calls).toBe(1);
  });

  it('passes the failed attempt and the error to a backoff function and uses its result', () => {
    const seen: Array<[number, Error]> = [];
    const backoff: BackoffFunction = (attempt, error) => {
      seen.push([attempt, error]);
      return attempt * 111;
    };
    expect(computeBackoffDelay({ maxAttempts: 5, backoff }, 1, boom)).toBe(111);
    expect(computeBackoffDelay({ maxAttempts: 5, backoff }, 3, boom)).toBe(333);
    expect(seen).toEqual([
      [1, boom],
      [3, boom],
    ]);
  });

  it.each([
    ['a fraction', 12.6, 13],
    ['zero', 0, 0],
    ['a negative number (BullMQ would read -1 as "give up")', -1, 0],
    ['negative zero', -0, 0],
    ['NaN', Number.NaN, 0],
    ['undefined', undefined, 0],
    ['a string', '500', 0],
    ['Infinity', Number.POSITIVE_INFINITY, MAX_BACKOFF_DELAY_MS],
    ['more than the bound', MAX_BACKOFF_DELAY_MS + 10, MAX_BACKOFF_DELAY_MS],
  ])('clamps a backoff function returning %s', (_label, returned, expected) => {
    const backoff = (() => returned) as unknown as BackoffFunction;
    const delay = computeBackoffDelay({ maxAttempts: 2, backoff }, 1, boom);
    expect(delay).toBe(expected);
    expect(Object.is(delay, -0)).toBe(false);
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses attempt %d (attempts count from 1)', (attempt) => {
    expect(() => computeBackoffDelay(DEFAULT_RETRY_POLICY, attempt, boom)).toThrow(RangeError);
  });
});

describe('validateRetryPolicy', () => {
  it.each<[string, RetryPolicy]>([
    ['the default policy', DEFAULT_RETRY_POLICY],
    ['fixed with zero delay', { maxAttempts: 1, backoff: { type: 'fixed', delay: 0 } }],
    [
      'exponential with every field',
      { maxAttempts: 5, backoff: { type: 'exponential', delay: 50, maxDelay: 50, jitter: 1 } },
    ],
    ['zero jitter', { maxAttempts: 2, backoff: { type: 'fixed', delay: 10, jitter: 0 } }],
    ['a function', { maxAttempts: 4, backoff: (attempt) => attempt * 10 }],
  ])('accepts %s and returns it', (_label, policy) => {
    expect(validateRetryPolicy(policy, 'retry')).toBe(policy);
  });

  it.each<[string, unknown, string, string]>([
    ['undefined', undefined, 'defaultRetry', 'must be an object { maxAttempts, backoff }, got undefined'],
    ['null', null, 'defaultRetry', 'got null'],
    ['an array', [], 'defaultRetry', 'got an array'],
    ['a number', 3, 'defaultRetry', 'got 3'],
    ['no maxAttempts', { backoff: { type: 'fixed', delay: 1 } }, 'defaultRetry.maxAttempts', 'got undefined'],
    [
      'maxAttempts 0',
      { maxAttempts: 0, backoff: { type: 'fixed', delay: 1 } },
      'defaultRetry.maxAttempts',
      'positive integer',
    ],
    [
      'maxAttempts 2.5',
      { maxAttempts: 2.5, backoff: { type: 'fixed', delay: 1 } },
      'defaultRetry.maxAttempts',
      'got 2.5',
    ],
    [
      'maxAttempts Infinity',
      { maxAttempts: Infinity, backoff: { type: 'fixed', delay: 1 } },
      'defaultRetry.maxAttempts',
      'Infinity',
    ],
    [
      'maxAttempts as text',
      { maxAttempts: '3', backoff: { type: 'fixed', delay: 1 } },
      'defaultRetry.maxAttempts',
      "got '3'",
    ],
    ['no backoff', { maxAttempts: 3 }, 'defaultRetry.backoff', 'or a function, got undefined'],
    ['a numeric backoff', { maxAttempts: 3, backoff: 100 }, 'defaultRetry.backoff', 'got 100'],
    [
      'an unknown type',
      { maxAttempts: 3, backoff: { type: 'linear', delay: 1 } },
      'defaultRetry.backoff.type',
      "got 'linear'",
    ],
    ['no delay', { maxAttempts: 3, backoff: { type: 'fixed' } }, 'defaultRetry.backoff.delay', 'got undefined'],
    [
      'a negative delay',
      { maxAttempts: 3, backoff: { type: 'fixed', delay: -1 } },
      'defaultRetry.backoff.delay',
      'got -1',
    ],
    [
      'a NaN delay',
      { maxAttempts: 3, backoff: { type: 'fixed', delay: NaN } },
      'defaultRetry.backoff.delay',
      'got NaN',
    ],
    [
      'an infinite delay',
      { maxAttempts: 3, backoff: { type: 'fixed', delay: Infinity } },
      'defaultRetry.backoff.delay',
      'Infinity',
    ],
    [
      'maxDelay below delay',
      { maxAttempts: 3, backoff: { type: 'exponential', delay: 100, maxDelay: 99 } },
      'defaultRetry.backoff.maxDelay',
      '>= delay (100), got 99',
    ],
    [
      'an infinite maxDelay',
      { maxAttempts: 3, backoff: { type: 'exponential', delay: 1, maxDelay: Infinity } },
      'defaultRetry.backoff.maxDelay',
      'Infinity',
    ],
    [
      'jitter above 1',
      { maxAttempts: 3, backoff: { type: 'fixed', delay: 1, jitter: 1.5 } },
      'defaultRetry.backoff.jitter',
      'got 1.5',
    ],
    [
      'negative jitter',
      { maxAttempts: 3, backoff: { type: 'fixed', delay: 1, jitter: -0.1 } },
      'defaultRetry.backoff.jitter',
      'got -0.1',
    ],
    [
      'NaN jitter',
      { maxAttempts: 3, backoff: { type: 'fixed', delay: 1, jitter: NaN } },
      'defaultRetry.backoff.jitter',
      'got NaN',
    ],
  ])('refuses %s, naming the option', (_label, policy, option, message) => {
    let caught: unknown;
    try {
      validateRetryPolicy(policy, 'defaultRetry');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(EventBusConfigurationError);
    expect((caught as EventBusConfigurationError).option).toBe(option);
    expect((caught as Error).message).toContain(`"${option}"`);
    expect((caught as Error).message).toContain(message);
  });

  it('names the option it is given', () => {
    expect(() => validateRetryPolicy({ maxAttempts: 0, backoff: () => 1 }, 'OrderHandlers.onPlaced retry')).toThrow(
      'Invalid event bus option "OrderHandlers.onPlaced retry.maxAttempts"',
    );
  });
});
