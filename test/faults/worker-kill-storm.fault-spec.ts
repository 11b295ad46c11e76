/**
 * Worker SIGKILL storm: three workers consume a paced stream; one after another is SIGKILLed
 * mid-stream and replaced, the stream running until the storm is over. The dead workers' jobs come back through BullMQ's stalled-job recovery
 * (short lockDuration/stalledInterval): nothing acknowledged is lost, every handler runs.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { FaultChild } from './support/fault-child.js';
import { faultProfile } from './support/fault-profile.js';
import { FaultRun } from './support/fault-run.js';
import { waitForAcks } from './support/progress.js';

describe('fault: worker SIGKILL storm', () => {
  let run: FaultRun;
  beforeAll(async () => {
    run = await FaultRun.start('worker-kill-storm');
  });
  afterAll(() => run?.cleanup());

  it('settles every acknowledged event while workers are killed and restarted under load', async () => {
    const workers: Promise<FaultChild>[] = [run.startWorker(), run.startWorker(), run.startWorker()];
    await Promise.all(workers);
    // The stream runs until the storm is over: every kill lands mid-stream, whatever the machine's speed.
    const publisher = await run.startPublisher({ TOTAL: '0', LOOPS: '1', PAUSE_MS: '20', TRANSACTION_EVERY: '10' });
    const step = Math.floor(faultProfile.events / (faultProfile.kills + 1));
    for (let kill = 1; kill <= faultProfile.kills; kill++) {
      await waitForAcks(run.files, kill * step);
      const victim = await workers.shift()!;
      await victim.kill();
      run.faultEnded();
      // The replacement starts while the stream goes on; the storm does not wait for it.
      workers.push(run.startWorker());
    }
    await Promise.all(workers);
    await waitForAcks(run.files, (faultProfile.kills + 1) * step);
    await run.stopPublisher(publisher);

    const outcome = await run.check({ kills: faultProfile.kills });
    expect(outcome.violations).toEqual([]);
    expect(outcome.events).toBeGreaterThanOrEqual((faultProfile.kills + 1) * step);
  });
});
