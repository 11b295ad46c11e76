/**
 * Publisher SIGKILLed inside `publish`: right after its INSERT committed (stored, not enqueued) and
 * right after `addBulk` returned (enqueued, job ids not recorded). The publisher kills itself at that
 * exact point (children/self-kill.ts). Acknowledged events settle, and so do the stored events of
 * the killed batch: the relay enqueues what was never enqueued, recovery covers unrecorded job ids.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { faultProfile } from './support/fault-profile.js';
import { FaultRun } from './support/fault-run.js';
import { readAcks } from './support/oracle-files.js';

describe('fault: publisher SIGKILLed inside publish', () => {
  let run: FaultRun;
  beforeAll(async () => {
    run = await FaultRun.start('publisher-kill');
    await Promise.all([run.startWorker(), run.startWorker()]);
  });
  afterAll(() => run?.cleanup());

  it.each(['after-insert', 'after-addbulk'])('%s: settles every stored event, acknowledged or not', async (killAt) => {
    const unacknowledgedBefore = await storedUnacknowledged(run);
    const doomed = await run.startPublisher({ KILL_AT: killAt, KILL_AFTER: '5', LOOPS: '4', PAUSE_MS: '5' });
    const exit = await doomed.waitForExit(60_000);
    expect(exit.signal).toBe('SIGKILL');
    expect(doomed.messages).toContainEqual({ killingSelf: killAt });
    run.faultEnded();
    // The kill hit the window: events of its batch were stored but never acknowledged.
    const killedBatch = (await storedUnacknowledged(run)) - unacknowledgedBefore;
    expect(killedBatch).toBeGreaterThan(0);
    // The stream goes on from a new publisher.
    const publisher = await run.startPublisher({ TOTAL: '100', LOOPS: '2', PAUSE_MS: '5', TRANSACTION_EVERY: '10' });
    await publisher.waitForExit(faultProfile.streamBoundMs);

    const outcome = await run.check({ kills: 1, stored_unacknowledged: killedBatch });
    expect(outcome.violations).toEqual([]);
  });
});

async function storedUnacknowledged(run: FaultRun): Promise<number> {
  const [{ stored }] = await run.dataSource.query<{ stored: number }[]>(
    `SELECT count(*)::int AS stored FROM event_store`,
  );
  return stored - readAcks(run.files).size;
}
