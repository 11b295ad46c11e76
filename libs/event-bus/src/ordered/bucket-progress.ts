import type { OrderedPosition } from '../core/ports/ordered-log.js';

export function comparePositions(a: OrderedPosition, b: OrderedPosition): number {
  if (a.transactionId !== b.transactionId) return a.transactionId < b.transactionId ? -1 : 1;
  return a.sequenceNumber - b.sequenceNumber;
}

interface Slot {
  readonly position: OrderedPosition;
  done: boolean;
}

/**
 * Where one owned bucket stands. Events are read in commit-safe order but finish out of it (keys run
 * in parallel; one key may wait on a retry), so the checkpoint is a low-water mark: the position up
 * to which every event of the bucket is finished. Those finished beyond it are covered by their
 * keys' own progress records, so a new owner starting at the checkpoint skips them.
 */
export class BucketProgress {
  private readonly slots: Slot[] = [];
  private head = 0;
  /** Every event of the bucket up to here has been read (and queued, or skipped as finished). */
  private readUpTo: OrderedPosition;
  private saved: OrderedPosition;
  /** The last event of the unbroken run of finished ones from the start. */
  private finished: OrderedPosition;

  constructor(
    readonly bucket: number,
    readonly epoch: number,
    checkpoint: OrderedPosition,
  ) {
    this.readUpTo = checkpoint;
    this.saved = checkpoint;
    this.finished = checkpoint;
  }

  /** The position reading must resume from for this bucket. */
  get readPosition(): OrderedPosition {
    return this.readUpTo;
  }

  /** Whether an event at `position` was read already. */
  hasRead(position: OrderedPosition): boolean {
    return comparePositions(position, this.readUpTo) <= 0;
  }

  /** An event handed to its key; returns the handle to finish it with. */
  track(position: OrderedPosition): Slot {
    const slot = { position, done: false };
    this.slots.push(slot);
    this.readUpTo = position;
    return slot;
  }

  /** Everything of this bucket up to `position` has been read. */
  readThrough(position: OrderedPosition): void {
    if (comparePositions(position, this.readUpTo) > 0) this.readUpTo = position;
  }

  get pending(): number {
    return this.slots.length - this.head;
  }

  /** The new checkpoint to save, if the low-water mark moved past the saved one. */
  advance(): OrderedPosition | undefined {
    while (this.head < this.slots.length && this.slots[this.head].done) {
      this.finished = this.slots[this.head].position;
      this.head += 1;
    }
    if (this.head > 1024) {
      this.slots.splice(0, this.head);
      this.head = 0;
    }
    const mark = this.head < this.slots.length ? this.finished : this.readUpTo;
    return comparePositions(mark, this.saved) > 0 ? mark : undefined;
  }

  /** The checkpoint was written. */
  markSaved(position: OrderedPosition): void {
    if (comparePositions(position, this.saved) > 0) this.saved = position;
  }
}
