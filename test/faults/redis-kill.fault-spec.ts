/**
 * Redis SIGKILLed mid-stream and restarted on the same port: with an append-only file fsynced at
 * every write (nothing acknowledged by Redis is lost) and without persistence (it comes back empty:
 * every queued job is gone, and the relay's lost-job recovery must re-add them).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { faultProfile } from './support/fault-profile.js';
import { FaultRun } from './support/fault-run.js';
import { readAcks } from './support/oracle-files.js';
import { waitForAcks } from './support/progress.js';

describe.each([
  ['with persistence', true],
  ['without persistence', false],
])('fault: Redis SIGKILLed mid-stream (%s)', (_label, redisPersistence) => {
  let run: FaultRun;
  beforeAll(async () => {
    run = await FaultRun.start(`redis-kill-${redisPersistence ? 'aof' : 'none'}`, { redisPersistence });
    // Slower than the publisher: a backlog of jobs usually waits in Redis when it dies (a figure, not
    // asserted: how large it is depends on the machine's speed).
    const slow = { HANDLER_MS: '60', CONCURRENCY: '1' };
    await Promise.all([run.startWorker(slow), run.startWorker(slow)]);
  });
  afterAll(() => run?.cleanup());

  it('settles every acknowledged event once Redis is back', async () => {
    const publisher = await run.startPublisher({ LOOPS: '2', PAUSE_MS: '30', TRANSACTION_EVERY: '10' });
    const step = Math.floor(faultProfile.events / (faultProfile.outages + 1));
    let backlog = Number.POSITIVE_INFINITY;
    for (let outage = 1; outage <= faultProfile.outages; outage++) {
      await waitForAcks(run.files, outage * step);
      backlog = Math.min(backlog, await unfinished(run));
      await run.redis.stop();
      // Publishing goes on without Redis (stored, left to the relay): the outage lasts 20 acknowledgements.
      await waitForAcks(run.files, readAcks(run.files).size + 20);
      await run.redis.start();
      run.faultEnded();
    }
    await publisher.waitForExit(faultProfile.streamBoundMs);

    const outcome = await run.check({ redis_kills: faultProfile.outages, backlog_at_kill: backlog });
    expect(outcome.violations).toEqual([]);
    expect(outcome.events).toBe(faultProfile.events);
  });
});

/** Stored events not finished yet: what the queue holds (or should) when Redis dies. */
async function unfinished(run: FaultRun): Promise<number> {
  const [{ count }] = await run.dataSource.query<{ count: number }[]>(
    `SELECT count(*)::int AS count FROM event_store WHERE status IN ('pending', 'processing')`,
  );
  return count;
}
