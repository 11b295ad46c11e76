import { describe, expect, it } from '@jest/globals';
import { DeadlineExceededError, withDeadline } from './with-deadline.js';

describe('withDeadline', () => {
  it('resolves with the work when it settles in time', async () => {
    await expect(withDeadline(Promise.resolve(42), 1000, 'the queue')).resolves.toBe(42);
    await expect(withDeadline(Promise.reject(new Error('refused')), 1000, 'the queue')).rejects.toThrow('refused');
  });

  it('rejects, naming what did not answer, when the work never settles', async () => {
    const never = new Promise<never>(() => undefined);
    const error = await withDeadline(never, 10, 'the queue').catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect((error as Error).message).toBe('the queue did not answer within 10 ms');
  });

  it('does not leave a late failure unhandled', async () => {
    let fail!: (error: Error) => void;
    const late = new Promise<never>((_, reject) => (fail = reject));
    await expect(withDeadline(late, 5, 'Redis')).rejects.toThrow(DeadlineExceededError);
    fail(new Error('too late')); // would crash the test run as an unhandled rejection if not caught
    await new Promise((resolve) => setImmediate(resolve));
  });
});
