/**
 * Rolling restart: under load, each worker in turn gets SIGTERM (its bus closes: running handlers
 * finish, then it exits) and is replaced. The handler of `fault.order.placed` publishes a follow-up
 * event from inside the worker, acknowledged into the same oracle; follow-ups must settle too, and
 * handlers that were running when the signal came still publish theirs.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { FaultChild } from './support/fault-child.js';
import { faultProfile } from './support/fault-profile.js';
import { FaultRun } from './support/fault-run.js';
import { readAcks } from './support/oracle-files.js';
import { waitForAcks } from './support/progress.js';

const WORKERS = 3;
const STOP_BOUND_MS = 20_000;

describe('fault: rolling SIGTERM of workers under load', () => {
  let run: FaultRun;
  beforeAll(async () => {
    run = await FaultRun.start('rolling-restart');
  });
  afterAll(() => run?.cleanup());

  it('settles every order and every follow-up published by the handlers', async () => {
    const workers: FaultChild[] = await Promise.all(Array.from({ length: WORKERS }, () => run.startWorker()));
    // The stream runs until every worker was restarted: each SIGTERM lands under load.
    const publisher = await run.startPublisher({
      EVENT_TYPE: 'fault.order.placed',
      TOTAL: '0',
      LOOPS: '1',
      PAUSE_MS: '30',
    });
    const restarts = WORKERS * faultProfile.rollingRounds;
    // Acknowledgements count orders and follow-ups: about two per order.
    const step = Math.floor((2 * faultProfile.events) / (restarts + 1));
    for (let restart = 1; restart <= restarts; restart++) {
      await waitForAcks(run.files, restart * step);
      // As a rolling deploy does: the replacement starts while the old worker drains and stops.
      const replacement = run.startWorker();
      const victim = workers.shift()!;
      victim.signal('SIGTERM');
      const exit = await victim.waitForExit(STOP_BOUND_MS);
      expect(exit).toEqual({ code: 0, signal: null });
      run.faultEnded();
      workers.push(await replacement);
    }
    await waitForAcks(run.files, (restarts + 1) * step);
    await run.stopPublisher(publisher);

    const outcome = await run.check({ sigterms: restarts });
    expect(outcome.violations).toEqual([]);
    const types = [...readAcks(run.files).values()];
    const orders = types.filter((type) => type === 'fault.order.placed').length;
    expect(orders).toBeGreaterThan(0);
    expect(types.filter((type) => type === 'fault.order.shipped').length).toBe(orders);
  });
});
