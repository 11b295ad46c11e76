import { describe, expect, it } from '@jest/globals';
import { BucketProgress } from './bucket-progress.js';

const at = (transactionId: number, sequenceNumber: number) => ({
  transactionId: BigInt(transactionId),
  sequenceNumber,
});

describe('BucketProgress', () => {
  it('checkpoints the low-water mark: never past an unfinished event', () => {
    const bucket = new BucketProgress(3, 1, at(1, 1));
    const first = bucket.track(at(2, 5));
    const second = bucket.track(at(2, 6));
    const third = bucket.track(at(3, 4));
    second.done = true;
    third.done = true;
    expect(bucket.advance()).toBeUndefined();
    first.done = true;
    expect(bucket.advance()).toEqual(at(3, 4));
  });

  it('moves to what was read when every read event is finished, and not back to a saved position', () => {
    const bucket = new BucketProgress(0, 1, at(1, 1));
    bucket.track(at(2, 2)).done = true;
    bucket.readThrough(at(9, 9));
    const mark = bucket.advance();
    expect(mark).toEqual(at(9, 9));
    bucket.markSaved(mark!);
    expect(bucket.advance()).toBeUndefined();
    expect(bucket.hasRead(at(9, 9))).toBe(true);
    expect(bucket.hasRead(at(9, 10))).toBe(false);
  });

  it('keeps the mark at the last finished event while a later one is unfinished', () => {
    const bucket = new BucketProgress(0, 1, at(0, 0));
    bucket.track(at(1, 1)).done = true;
    const open = bucket.track(at(1, 2));
    expect(bucket.advance()).toEqual(at(1, 1));
    expect(bucket.pending).toBe(1);
    open.done = true;
    expect(bucket.advance()).toEqual(at(1, 2));
  });
});
