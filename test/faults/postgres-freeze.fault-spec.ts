/**
 * PostgreSQL frozen mid-stream (SIGSTOP on the postmaster and every backend: connections stay open,
 * nothing answers), and a worker told to stop (SIGTERM → `bus.close()`) meanwhile: its `close()` must
 * settle within a bound (DESIGN.md §6.1 "bounded shutdown": handlers get up to shutdownTimeoutMs,
 * default 10 s, then every step has its own deadline) and the process exit. Then PostgreSQL is
 * thawed, and everything acknowledged settles.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ChildMessage } from './support/fault-child.js';
import { faultProfile } from './support/fault-profile.js';
import { FaultRun } from './support/fault-run.js';
import { waitForAcks } from './support/progress.js';

/** shutdownTimeoutMs (10 s by default) plus room for the bounded steps after it. */
const CLOSE_BOUND_MS = 20_000;

describe('fault: PostgreSQL frozen mid-stream', () => {
  let run: FaultRun;
  beforeAll(async () => {
    run = await FaultRun.start('postgres-freeze');
  });
  afterAll(() => run?.cleanup());

  it('lets a worker close within the bound while frozen, and settles everything once thawed', async () => {
    const [stopping] = await Promise.all([run.startWorker(), run.startWorker(), run.startWorker()]);
    const publisher = await run.startPublisher({ LOOPS: '2', PAUSE_MS: '30', TRANSACTION_EVERY: '10' });
    await waitForAcks(run.files, Math.floor(faultProfile.events / 3));

    const frozen = run.postgres.freeze();
    const frozenAt = Date.now();
    const closeSettled = (m: ChildMessage): boolean => m.closed === true || 'closeFailed' in m;
    let closeError: unknown;
    try {
      stopping.signal('SIGTERM');
      await stopping.waitFor(closeSettled, CLOSE_BOUND_MS, 'close() to settle while PostgreSQL is frozen');
      await stopping.waitForExit(CLOSE_BOUND_MS - (Date.now() - frozenAt) + 5_000);
    } catch (error) {
      closeError = error;
    } finally {
      run.postgres.thaw();
      run.faultEnded();
    }
    const thawedAt = Date.now();
    // For the figures: when close() settled, if only after the thaw.
    const settled = await stopping
      .waitFor(closeSettled, 30_000, 'close() to settle after the thaw')
      .catch(() => undefined);
    const closeMs = settled ? Number(settled.ms) : Number.NaN;
    await publisher.waitForExit(faultProfile.streamBoundMs);

    const outcome = await run.check({
      frozen_processes: frozen,
      frozen_ms: thawedAt - frozenAt,
      close_ms: closeMs,
    });
    expect(closeError).toBeUndefined();
    expect(closeMs).toBeLessThanOrEqual(CLOSE_BOUND_MS);
    expect(stopping.exited).toBeDefined();
    expect(outcome.violations).toEqual([]);
    expect(outcome.events).toBe(faultProfile.events);
  });
});
