import { describe, expect, it } from '@jest/globals';
import { MicroBatcher } from './micro-batcher.js';

describe('MicroBatcher', () => {
  it('flushes a lone call at once, in a batch of its own', async () => {
    const batches: number[][] = [];
    const batcher = new MicroBatcher<number, number>(async (items) => {
      batches.push([...items]);
      return items.map((item) => item * 10);
    });
    await expect(batcher.submit(1)).resolves.toBe(10);
    expect(batches).toEqual([[1]]);
  });

  it('coalesces calls of one tick, and calls made while a flush runs join the next flush', async () => {
    const batches: number[][] = [];
    let release!: () => void;
    const firstFlushHeld = new Promise<void>((resolve) => (release = resolve));
    const batcher = new MicroBatcher<number, number>(async (items) => {
      batches.push([...items]);
      if (batches.length === 1) await firstFlushHeld;
      return items.map((item) => item + 100);
    });

    const first = [batcher.submit(1), batcher.submit(2)];
    await Promise.resolve(); // the first flush starts
    await Promise.resolve();
    const later = [batcher.submit(3), batcher.submit(4), batcher.submit(5)];
    release();

    await expect(Promise.all([...first, ...later])).resolves.toEqual([101, 102, 103, 104, 105]);
    expect(batches).toEqual([
      [1, 2],
      [3, 4, 5],
    ]);
  });

  it('splits a backlog into batches of at most maxBatch items', async () => {
    const sizes: number[] = [];
    const batcher = new MicroBatcher<number, number>(
      async (items) => {
        sizes.push(items.length);
        return [...items];
      },
      { maxBatch: 2 },
    );
    await Promise.all([1, 2, 3, 4, 5].map((item) => batcher.submit(item)));
    expect(sizes).toEqual([2, 2, 1]);
  });

  it('with maxInFlight 2, starts a second flush while the first runs, and queues behind both', async () => {
    const batches: number[][] = [];
    const held: Array<() => void> = [];
    const batcher = new MicroBatcher<number, number>(
      async (items) => {
        batches.push([...items]);
        await new Promise<void>((resolve) => held.push(resolve));
        return items.map((item) => -item);
      },
      { maxInFlight: 2 },
    );
    const settle = async (): Promise<void> => {
      for (let tick = 0; tick < 5; tick++) await Promise.resolve();
    };

    const first = batcher.submit(1);
    await settle();
    const second = batcher.submit(2);
    await settle();
    expect(batches).toEqual([[1], [2]]); // the second did not wait for the first

    const queued = [batcher.submit(3), batcher.submit(4)];
    await settle();
    expect(batches).toHaveLength(2); // both in flight: 3 and 4 wait

    held[1](); // the second flush settles; its loop takes what waits, as one batch
    await settle();
    expect(batches).toEqual([[1], [2], [3, 4]]);
    held[0]();
    held[2]();
    await expect(Promise.all([first, second, ...queued])).resolves.toEqual([-1, -2, -3, -4]);
  });

  it('rejects every call of a failed flush, and keeps working afterwards', async () => {
    let fail = true;
    const batcher = new MicroBatcher<number, number>(async (items) => {
      if (fail) throw new Error('database unavailable');
      return [...items];
    });
    const results = await Promise.allSettled([batcher.submit(1), batcher.submit(2)]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    await expect(batcher.submit(3)).resolves.toBe(3);
  });
});
