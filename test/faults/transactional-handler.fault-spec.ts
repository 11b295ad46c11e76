/**
 * A transactional handler under worker faults (DESIGN.md 6.7). Two workers run `projection`
 * (children/worker.ts, TRANSACTIONAL=1), which inserts a row per event through `context.manager`
 * into a table with no unique constraint, while a paced stream is published:
 *
 * - a stall: a worker is stopped (SIGSTOP) while its projection's transaction is open, past the
 *   lock duration, so BullMQ hands the job to another worker while the first still holds the inbox
 *   key. The other waits on the key, but not for ever: the stopped worker's transaction may sit idle
 *   at most the lock duration, then PostgreSQL ends it, so the other applies the event while the first
 *   is still stopped; continued (SIGCONT), the first finds its transaction gone and writes nothing;
 * - then a SIGKILL storm: workers killed mid-transaction one after another and replaced.
 *
 * At the end every acknowledged event has exactly one projection row.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { waitFor } from '../support/wait-for.js';
import type { FaultChild } from './support/fault-child.js';
import { faultProfile } from './support/fault-profile.js';
import { FaultRun, WORKER_OPTIONS } from './support/fault-run.js';
import { readAcks } from './support/oracle-files.js';
import { waitForAcks } from './support/progress.js';

describe('fault: a transactional handler under a stalled worker and a SIGKILL storm', () => {
  let run: FaultRun;
  let stopped: FaultChild | undefined;

  beforeAll(async () => {
    run = await FaultRun.start('transactional-handler');
    await run.dataSource.query('CREATE TABLE tx_projection (event_id uuid NOT NULL, pid integer NOT NULL)');
  });
  afterAll(async () => {
    // A stopped child is killed by the cleanup too; continuing it first lets it close its connections.
    if (stopped?.exited === undefined) stopped?.signal('SIGCONT');
    await run?.cleanup();
  });

  it('writes exactly one projection row per acknowledged event', async () => {
    const env = {
      TRANSACTIONAL: '1',
      // Transactions held long enough that the kills land in the middle of some.
      HANDLER_MS: '50',
      TX_HOLD_MARKER: join(run.dir, 'held'),
      TX_HOLD_MS: String(2 * WORKER_OPTIONS.lockDuration),
    };
    // Two workers: enough for one to take the other's jobs, and light on a small machine.
    const workers: Promise<FaultChild>[] = [run.startWorker(env), run.startWorker(env)];
    const started = await Promise.all(workers);
    const publisher = await run.startPublisher({
      TOTAL: '0',
      LOOPS: '1',
      PAUSE_MS: '30',
      STALL_AT: '20',
      TRANSACTION_EVERY: '10',
    });

    // The stall: stopped while it holds the projection's transaction of the `stall` event open.
    const holder = await Promise.any(
      started.map((worker) => worker.waitFor((m) => 'holding' in m, 60_000, 'holding').then(() => worker)),
    );
    const heldEvent = String(holder.messages.find((m) => 'holding' in m)!.holding);
    holder.signal('SIGSTOP');
    stopped = holder;
    // Past its lock, the job goes to another worker: its `effect` handler runs the event again, and
    // its projection waits on the inbox key the stopped worker holds, until PostgreSQL ends the stopped
    // worker's idle transaction: the event is applied while that worker is still stopped.
    await waitFor(
      async () => {
        const [row] = await run.dataSource.query<Array<{ pid: number }>>(
          'SELECT pid FROM tx_projection WHERE event_id = $1',
          [heldEvent],
        );
        return row !== undefined && row.pid !== holder.pid;
      },
      { timeoutMs: 30_000, intervalMs: 100, message: 'another worker applied the stalled event' },
    );
    holder.signal('SIGCONT');
    stopped = undefined;
    run.faultEnded();

    // The storm, mid-stream, whatever the machine's speed.
    const acked = readAcks(run.files).size;
    const step = Math.max(10, Math.floor(faultProfile.events / (faultProfile.kills + 1)));
    for (let kill = 1; kill <= faultProfile.kills; kill++) {
      await waitForAcks(run.files, acked + kill * step);
      const victim = await workers.shift()!;
      await victim.kill();
      run.faultEnded();
      workers.push(run.startWorker(env));
    }
    await Promise.all(workers);
    await waitForAcks(run.files, acked + (faultProfile.kills + 1) * step);
    await run.stopPublisher(publisher);

    const outcome = await run.check({ kills: faultProfile.kills, stalls: 1 });
    expect(outcome.violations).toEqual([]);

    const rows: Array<{ id: string; n: number; pid: number }> = await run.dataSource.query(
      'SELECT event_id::text AS id, count(*)::int AS n, min(pid) AS pid FROM tx_projection GROUP BY event_id',
    );
    const byEvent = new Map(rows.map((row) => [row.id, row]));
    expect(rows.filter((row) => row.n !== 1)).toEqual([]);
    expect([...readAcks(run.files).keys()].filter((id) => !byEvent.has(id))).toEqual([]);
    // The worker that took the stalled job applied it; the stopped one, continued, wrote nothing.
    expect(byEvent.get(heldEvent)?.pid).not.toBe(holder.pid);
    const [inbox] = await run.dataSource.query<[{ n: number }]>(
      `SELECT count(*)::int AS n FROM event_bus_inbox WHERE handler = 'projection'`,
    );
    expect(inbox.n).toBe(rows.length);
    process.stdout.write(`[fault ${faultProfile.name}] transactional-handler: projection_rows=${rows.length}\n`);
  });
});
