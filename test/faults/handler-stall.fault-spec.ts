/**
 * A handler that blocks its worker's event loop past the lock duration, once: the worker cannot
 * renew its job lock, BullMQ declares the job stalled and another worker takes it. The event still
 * settles, every handler runs (a second time is allowed and counted), and the stalled worker
 * goes on working afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { faultProfile } from './support/fault-profile.js';
import { FaultRun, WORKER_OPTIONS } from './support/fault-run.js';
import { readCalls } from './support/oracle-files.js';
import { waitForCallsBy } from './support/progress.js';

describe('fault: a handler stalls its worker past the lock duration', () => {
  let run: FaultRun;
  beforeAll(async () => {
    run = await FaultRun.start('handler-stall');
  });
  afterAll(() => run?.cleanup());

  it('settles the stalled event elsewhere and the stalled worker recovers', async () => {
    const stall = { STALL_MARKER: join(run.dir, 'stalled'), STALL_MS: String(3 * WORKER_OPTIONS.lockDuration) };
    const workers = await Promise.all([run.startWorker(stall), run.startWorker(stall)]);
    // The stream runs until the stalled worker has worked again after its stall.
    const publisher = await run.startPublisher({
      TOTAL: '0',
      LOOPS: '1',
      PAUSE_MS: '30',
      STALL_AT: '20',
      TRANSACTION_EVERY: '10',
    });

    const stalled = await Promise.any(
      workers.map((worker) => worker.waitFor((m) => 'stalled' in m, 60_000, 'stall over').then(() => worker)),
    );
    run.faultEnded();
    const callsBefore = readCalls(run.files).filter((call) => call.pid === stalled.pid).length;
    await waitForCallsBy(run.files, stalled.pid, callsBefore + 1, faultProfile.settleBoundMs);
    await run.stopPublisher(publisher);

    const outcome = await run.check({ stalls: 1 });
    expect(outcome.violations).toEqual([]);
    expect(outcome.events).toBeGreaterThan(20);
  });
});
