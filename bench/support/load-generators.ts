/**
 * The two ways a benchmark offers load. Closed loop: at most N calls in flight, the next one
 * starting when one ends ("100 publishes in flight") — for throughput. Open loop: event `i` is due
 * at `start + i / rate` whatever happened to the ones before, so a slow response cannot slow the
 * offered rate down (closed-loop generators hide exactly the latency they should measure) — for
 * latency, which is taken from the due time.
 */
import { setTimeout as delay } from 'node:timers/promises';

export interface OpenLoopOptions {
  ratePerSecond: number;
  count: number;
  /** Sends event `index`; `dueAt` is its scheduled `performance.now()` time. Not awaited by the schedule. */
  send(index: number, dueAt: number): Promise<unknown>;
}

export interface OpenLoopReport {
  /** How far behind its schedule the generator itself fell at worst, in ms (should stay small). */
  maxSendLagMs: number;
  failures: number;
  firstError?: unknown;
}

export async function runOpenLoop(options: OpenLoopOptions): Promise<OpenLoopReport> {
  const intervalMs = 1000 / options.ratePerSecond;
  const start = performance.now();
  const inFlight: Promise<unknown>[] = [];
  const report: OpenLoopReport = { maxSendLagMs: 0, failures: 0 };
  let next = 0;
  while (next < options.count) {
    const now = performance.now();
    const due = Math.min(options.count, Math.floor((now - start) / intervalMs) + 1);
    for (; next < due; next++) {
      const dueAt = start + next * intervalMs;
      report.maxSendLagMs = Math.max(report.maxSendLagMs, performance.now() - dueAt);
      inFlight.push(
        options.send(next, dueAt).catch((error: unknown) => {
          report.failures++;
          report.firstError ??= error;
        }),
      );
    }
    // Sleep until the next event is due. Timers have a 1 ms grain, so at 2,000/s events leave
    // in pairs; spinning instead would burn a core that the services under test need.
    const untilNext = start + next * intervalMs - performance.now();
    await delay(Math.max(1, Math.floor(untilNext)));
  }
  await Promise.all(inFlight);
  return report;
}

/** Calls `task(i)` for every index with at most `inFlight` calls running (1: one at a time). */
export async function runWithConcurrency(
  count: number,
  inFlight: number,
  task: (index: number) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, lane));
}
