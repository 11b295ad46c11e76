/**
 * The worst single moment for Redis to lose its data: a publisher died right after `addBulk` (the
 * jobs are in Redis, their ids never recorded by the publisher), a worker took the jobs (their
 * events are `processing`; only the worker's status write recorded a job id), and then the worker
 * and Redis (no persistence) die together. Nothing in Redis remembers the events any more; recovery
 * must find them from PostgreSQL alone (DESIGN.md §6.1: "recovery looks at every unfinished row,
 * job id recorded or not").
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { waitFor } from '../support/wait-for.js';
import { faultProfile } from './support/fault-profile.js';
import { FaultRun } from './support/fault-run.js';

describe('fault: Redis loses the jobs of events whose job ids were never recorded', () => {
  let run: FaultRun;
  beforeAll(async () => {
    run = await FaultRun.start('redis-loss-unrecorded-job');
  });
  afterAll(() => run?.cleanup());

  it('settles the events a dead worker held when Redis comes back empty', async () => {
    // Slow handlers: the events are still in the worker's hands when everything dies. No relay in
    // these two processes: one that came round would record the job ids and close the window that
    // a failed job-id write leaves open for good.
    const noRelay = { RELAY: JSON.stringify({ enabled: false }) };
    const worker = await run.startWorker({ HANDLER_MS: '5000', ...noRelay });
    const doomed = await run.startPublisher({
      KILL_AT: 'after-addbulk',
      KILL_AFTER: '1',
      LOOPS: '4',
      PAUSE_MS: '0',
      ...noRelay,
    });
    expect((await doomed.waitForExit(60_000)).signal).toBe('SIGKILL');
    const inHand = await waitFor(() => processingCount(run), {
      timeoutMs: 10_000,
      message: 'events taken by the worker after the publisher died before recording their job ids',
    });

    await worker.kill();
    await run.redis.stop();
    await run.redis.start();
    run.faultEnded();
    await run.startWorker();
    // The stream goes on, so the scenario also shows publishing and delivery are back.
    const publisher = await run.startPublisher({ TOTAL: '50', LOOPS: '2', PAUSE_MS: '5' });
    await publisher.waitForExit(faultProfile.streamBoundMs);

    const outcome = await run.check({ processing_at_loss: inHand });
    expect(outcome.violations).toEqual([]);
  });
});

async function processingCount(run: FaultRun): Promise<number> {
  const [{ count }] = await run.dataSource.query<{ count: number }[]>(
    `SELECT count(*)::int AS count FROM event_store WHERE status = 'processing'`,
  );
  return count;
}
