/**
 * Latencies of an open-loop run, kept by the event's place in the schedule (not by arrival), so
 * the warm-up left out is the first part of the schedule. Sent and received are matched by id.
 */
import { summarize } from './bench-stats.js';
import type { LatencySummary } from './bench-stats.js';

export class LatencyRecorder {
  private readonly latencies: Float64Array;
  private readonly slots = new Map<string, { index: number; dueAt: number }>();
  private seen = 0;

  constructor(private readonly count: number) {
    this.latencies = new Float64Array(count).fill(Number.NaN);
  }

  /** Before sending: event `id` is number `index` of the schedule, due at `dueAt` (performance.now()). */
  sent(id: string, index: number, dueAt: number): void {
    this.slots.set(id, { index, dueAt });
  }

  /** When the handler starts; a second delivery of the same id (at-least-once) is ignored. */
  received(id: string): void {
    const slot = this.slots.get(id);
    if (!slot || !Number.isNaN(this.latencies[slot.index])) return;
    this.latencies[slot.index] = performance.now() - slot.dueAt;
    this.seen++;
  }

  get receivedCount(): number {
    return this.seen;
  }

  /** Percentiles without the first `warmupFraction` of the schedule. */
  summary(warmupFraction = 0.1): LatencySummary {
    const kept = Array.from(this.latencies.subarray(Math.floor(this.count * warmupFraction)));
    return summarize(kept.filter((latency) => !Number.isNaN(latency)));
  }
}
