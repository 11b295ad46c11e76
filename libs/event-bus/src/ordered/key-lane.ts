import type { KeyProgress, OrderedLogEntry } from '../core/ports/ordered-log.js';
import { comparePositions } from './bucket-progress.js';

/** An event queued on its key, and the bucket slot it finishes. */
export interface QueuedEvent {
  readonly entry: OrderedLogEntry;
  readonly slot: { done: boolean };
  /** The attempt the next call makes. */
  attempt: number;
}

/**
 * One partition key of an ordered handler: its queued events, what it has handled, and whether it is
 * busy (a call running or a retry waiting) or blocked. Events of a workflow run in version order: a
 * version that arrives before its predecessor (two overlapping transactions can make the later
 * version safe to read first) waits in the queue until the predecessor arrives.
 */
export class KeyLane {
  private readonly queue: QueuedEvent[] = [];
  busy = false;
  /** The event the key stopped at after its policy was exhausted (`onExhausted: 'block'`). */
  blockedOn: QueuedEvent | undefined;

  constructor(
    readonly key: string,
    readonly bucket: number,
    public progress: KeyProgress | undefined,
  ) {}

  get size(): number {
    return this.queue.length;
  }

  get idle(): boolean {
    return this.queue.length === 0 && !this.busy && !this.blockedOn;
  }

  /** Whether the key's progress shows this event handled already. */
  covers(entry: OrderedLogEntry): boolean {
    const progress = this.progress;
    if (!progress) return false;
    const version = entry.event.version ?? null;
    if (version !== null && progress.version !== null) return version <= progress.version;
    return comparePositions(entry.position, progress.position) <= 0;
  }

  enqueue(queued: QueuedEvent): void {
    const version = queued.entry.event.version ?? null;
    let index = this.queue.length;
    if (version !== null) {
      while (index > 0 && (this.queue[index - 1].entry.event.version ?? 0) > version) index -= 1;
    }
    this.queue.splice(index, 0, queued);
    // A key found blocked in its progress record (by a former owner) stays blocked at that event.
    if (!this.blockedOn && this.progress?.blockedEventId === queued.entry.event.id) this.blockedOn = queued;
  }

  /** The event to run next, if the key may run one now. */
  next(): QueuedEvent | undefined {
    if (this.busy || this.blockedOn) return undefined;
    const head = this.queue[0];
    if (!head) return undefined;
    const version = head.entry.event.version ?? null;
    const last = this.progress?.version ?? null;
    if (version !== null && last !== null && version > last + 1) return undefined; // its predecessor is not here yet
    return head;
  }

  /** The head event is finished (handled, parked, or re-driven elsewhere). */
  finish(queued: QueuedEvent): void {
    if (this.queue[0] === queued) this.queue.shift();
    queued.slot.done = true;
    const { event, position } = queued.entry;
    this.progress = { version: event.version ?? this.progress?.version ?? null, position, blockedEventId: null };
    if (this.blockedOn === queued) this.blockedOn = undefined;
  }
}
