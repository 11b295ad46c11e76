/**
 * PostgreSQL stopped with `pg_ctl stop -m immediate` (a crash: the restart runs crash recovery)
 * mid-stream, then restarted on the same port. Publishes during the outage reject with a library
 * error (StoreUnavailableError, DESIGN.md §6.1), never a raw driver error; what was acknowledged settles.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { waitFor } from '../support/wait-for.js';
import { faultProfile } from './support/fault-profile.js';
import { FaultRun } from './support/fault-run.js';
import { readPublishErrors } from './support/oracle-files.js';
import { waitForAcks } from './support/progress.js';

describe('fault: PostgreSQL stopped (-m immediate) and restarted mid-stream', () => {
  let run: FaultRun;
  beforeAll(async () => {
    run = await FaultRun.start('postgres-restart');
    await Promise.all([run.startWorker(), run.startWorker()]);
  });
  afterAll(() => run?.cleanup());

  it('settles every acknowledged event, and refused publishes are library errors', async () => {
    const publisher = await run.startPublisher({ LOOPS: '2', PAUSE_MS: '30', TRANSACTION_EVERY: '10' });
    const step = Math.floor(faultProfile.events / (faultProfile.outages + 1));
    for (let outage = 1; outage <= faultProfile.outages; outage++) {
      await waitForAcks(run.files, outage * step);
      const refusedBefore = readPublishErrors(run.files).length;
      await run.postgres.stopImmediate();
      // The outage lasts until the publisher has seen publishes refused.
      await waitFor(() => readPublishErrors(run.files).length >= refusedBefore + 3, {
        timeoutMs: 30_000,
        message: 'publishes refused while PostgreSQL is down',
      });
      await run.postgres.start();
      run.faultEnded();
    }
    await publisher.waitForExit(faultProfile.streamBoundMs);

    const outcome = await run.check({ postgres_crashes: faultProfile.outages });
    expect(outcome.violations).toEqual([]);
    expect(outcome.events).toBe(faultProfile.events);
  });
});
