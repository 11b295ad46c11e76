import { describe, expect, it } from '@jest/globals';
import type { MinimalJob } from 'bullmq';
import type { StoredEvent } from '../../../events/domain-event.js';
import type { RetryPolicy } from '../../../subscriptions/retry-policy.js';
import { SubscriptionManager } from '../../../subscriptions/subscription-manager.js';
import { HANDLER_JOB } from './event-jobs.js';
import { HANDLER_BACKOFF_TYPE, handlerBackoffStrategy, handlerJob, retryDelay } from './handler-jobs.js';

const event = { id: '0b5f0a8e-2f55-4d47-9d59-3c3f0f1a9b10', type: 'order.placed' } as StoredEvent;
const exponential: RetryPolicy = { maxAttempts: 5, backoff: { type: 'exponential', delay: 100 } };
const silent = { log() {}, error() {}, warn() {}, debug() {} };

describe('handlerJob', () => {
  it('carries the attempts the policy has left, a deterministic id and the handler backoff', () => {
    const job = handlerJob({
      event,
      handler: 'Orders.mail',
      attemptsBefore: 1,
      run: 0,
      policy: exponential,
      delay: 100,
    });
    expect(job).toEqual({
      name: HANDLER_JOB,
      data: { event, handler: 'Orders.mail', attemptsBefore: 1 },
      opts: expect.objectContaining({
        jobId: `${event.id}__Orders.mail`,
        attempts: 4,
        delay: 100,
        backoff: { type: HANDLER_BACKOFF_TYPE },
      }),
    });
  });

  it('carries a final failure of the first try, for the job to fail with', () => {
    const failure = { message: 'no', stack: 'Error: no\n    at handlerBody' };
    const job = handlerJob({
      event,
      handler: 'Orders.mail',
      attemptsBefore: 0,
      run: 0,
      policy: exponential,
      delay: 0,
      failure,
    });
    expect(job.data).toEqual({ event, handler: 'Orders.mail', attemptsBefore: 0, failure });
    expect(job.opts).toMatchObject({ jobId: `${event.id}__Orders.mail`, delay: 0 });
  });

  it('gives a re-drive a new job id and the whole policy', () => {
    const job = handlerJob({ event, handler: 'Orders.mail', attemptsBefore: 0, run: 2, policy: exponential, delay: 0 });
    expect(job.opts).toMatchObject({ jobId: `${event.id}__Orders.mail__2`, attempts: 5 });
  });

  it('leaves the end to the worker when this process does not know the policy', () => {
    const job = handlerJob({ event, handler: 'Unknown.h', attemptsBefore: 0, run: 1, policy: undefined, delay: 0 });
    expect(job.opts.attempts).toBeGreaterThanOrEqual(100);
  });
});

describe('handlerBackoffStrategy', () => {
  const subscriptions = new SubscriptionManager({ logger: silent });
  subscriptions.add('order.*', () => undefined, { name: 'Orders.mail', retry: exponential });
  const strategy = handlerBackoffStrategy(subscriptions, { maxAttempts: 3, backoff: { type: 'fixed', delay: 7 } });
  const job = (handler: string, attemptsBefore: number) =>
    ({ data: { event, handler, attemptsBefore } }) as unknown as MinimalJob;

  it("computes the handler's policy for its own attempt number (attempts before the job + BullMQ's count)", async () => {
    // BullMQ passes 1 after the job's first attempt failed; that was the handler's 2nd attempt.
    expect(await strategy(1, HANDLER_BACKOFF_TYPE, new Error('x'), job('Orders.mail', 1))).toBe(200);
    expect(await strategy(2, HANDLER_BACKOFF_TYPE, new Error('x'), job('Orders.mail', 1))).toBe(400);
  });

  it("falls back to the bus's default policy for a handler without one", async () => {
    expect(await strategy(1, HANDLER_BACKOFF_TYPE, new Error('x'), job('Unknown.h', 1))).toBe(7);
  });

  it('refuses backoff types it does not own unless a fallback strategy is given', () => {
    expect(() => strategy(1, 'mystery', new Error('x'), job('Orders.mail', 1))).toThrow(/Unknown backoff type/);
    const withFallback = handlerBackoffStrategy(subscriptions, exponential, () => 42);
    expect(withFallback(1, 'mystery', new Error('x'), job('Orders.mail', 1))).toBe(42);
  });
});

describe('retryDelay', () => {
  it("is the policy's delay", () => {
    expect(retryDelay(exponential, 3, new Error('x'))).toBe(400);
  });

  it('falls back to the default policy, and says so, when a backoff function throws', () => {
    const failures: unknown[] = [];
    const broken: RetryPolicy = {
      maxAttempts: 3,
      backoff: () => {
        throw new Error('bug in backoff');
      },
    };
    // The default policy: exponential from 1 s.
    expect(retryDelay(broken, 2, new Error('x'), (failure) => failures.push(failure))).toBe(2000);
    expect(failures).toEqual([new Error('bug in backoff')]);
  });
});
