/**
 * Ordered handlers under SIGKILL of the process that owns their keys (DESIGN.md 6.6–6.7). Three
 * worker processes run two ordered handlers at concurrency 10 while four writers append to twelve
 * workflows in overlapping transactions (versions assigned by the library, so a later version can
 * commit first). The owner of the buckets is SIGKILLed mid-stream. Its keys are taken over within
 * the bound; each workflow's events are handled strictly in version order, none skipped; the plain
 * handler repeats at most the event each key had in flight, the transactional one none at all.
 */
import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EventStoreRepository, PersistentEventStore, type NewDomainEvent } from '@app/event-bus';
import { waitFor } from '../support/wait-for.js';
import type { FaultChild } from './support/fault-child.js';
import { FaultRun } from './support/fault-run.js';

const TAKEOVER_MS = 3_000;
const TENANT = '33333333-3333-4333-8333-333333333333';
const WORKFLOWS = Array.from({ length: 12 }, (_, i) => `order-${i}`);
const ROUNDS = 40; // per writer; 2 events per round

describe('fault: ordered handlers when the owner of their keys is SIGKILLed', () => {
  let run: FaultRun;
  let workers: FaultChild[];

  beforeAll(async () => {
    run = await FaultRun.start('ordered-takeover');
    await run.dataSource.query(`CREATE TABLE ordered_effects (
      id bigserial PRIMARY KEY, event_id uuid NOT NULL, workflow_id text NOT NULL, version bigint NOT NULL, pid int NOT NULL)`);
    workers = [];
    for (let i = 0; i < 3; i += 1) workers.push(await run.startOrderedWorker(TAKEOVER_MS));
  });
  afterAll(() => run?.cleanup());

  it('takes the keys over within the bound, in order, nothing skipped, nothing done twice by the transactional handler', async () => {
    let written = 0;
    const writers = [0, 1, 2, 3].map((seed) =>
      writeRounds(run, seed, ROUNDS, () => {
        written += 2;
      }),
    );

    await waitFor(() => written >= ROUNDS * 4, { timeoutMs: 60_000, message: 'half of the stream written' });
    const owner = await busiestOwner(run);
    const victim = workers.find((worker) => worker.pid === owner);
    expect(victim).toBeDefined();
    // The workflows whose keys lie in the victim's buckets: their next call shows the takeover.
    const victimsWorkflows = await workflowsOwnedBy(run, owner);
    expect(victimsWorkflows.size).toBeGreaterThan(0);
    const killedAt = Date.now();
    await victim!.kill();
    workers.push(await run.startOrderedWorker(TAKEOVER_MS));
    await Promise.all(writers);
    const total = ROUNDS * 4 * 2;

    await waitForEverything(run, total);
    await expectProjectionExactlyOnceInOrder(run, total);

    // The plain handler: in order per workflow, nothing skipped; a repeat only of the event in flight at the kill.
    const byWorkflow = new Map<string, number[]>();
    for (const call of calls(run))
      byWorkflow.set(call.workflow, [...(byWorkflow.get(call.workflow) ?? []), call.version]);
    let repeats = 0;
    for (const [workflow, versions] of byWorkflow) {
      let previous = 0;
      let repeatsHere = 0;
      for (const version of versions) {
        if (version === previous) repeatsHere += 1;
        else expect([workflow, version]).toEqual([workflow, previous + 1]);
        previous = version;
      }
      expect([workflow, repeatsHere]).toEqual([workflow, Math.min(repeatsHere, 1)]);
      repeats += repeatsHere;
    }
    expect(repeats).toBeLessThanOrEqual(10); // at most one per key in flight (concurrency 10)

    // Taken over within the bound: a surviving process handled events of the stream soon after the kill.
    const firstAfter = calls(run).find(
      (call) => call.pid !== owner && call.at >= killedAt && victimsWorkflows.has(call.workflow),
    );
    expect(firstAfter).toBeDefined();
    const takeoverMs = firstAfter!.at - killedAt;
    process.stdout.write(
      `ordered takeover after SIGKILL: ${takeoverMs} ms (bound ${TAKEOVER_MS} ms), ${repeats} repeated call(s)\n`,
    );
    // The bound, plus what a loaded 2-core machine may add to one poll and one transaction.
    expect(takeoverMs).toBeLessThanOrEqual(TAKEOVER_MS + 5_000);
  });

  it('takes the keys of a frozen owner (SIGSTOP) over, and its late writes after SIGCONT change nothing', async () => {
    const before = await storedEvents(run);
    const owner = await busiestOwner(run);
    const victim = workers.find((worker) => worker.pid === owner && !worker.exited);
    expect(victim).toBeDefined();
    let written = 0;
    const writers = [4, 5].map((seed) =>
      writeRounds(run, seed, ROUNDS, () => {
        written += 2;
      }),
    );
    // Frozen mid-stream, likely inside a handler's transaction, which holds its bucket's lease row.
    await waitFor(() => written >= 10, { timeoutMs: 30_000, message: 'the stream under way' });
    victim!.signal('SIGSTOP');
    try {
      await Promise.all(writers);
      const total = before + ROUNDS * 2 * 2;
      // Everything is handled while the owner stays frozen: its buckets changed hands.
      await waitForEverything(run, total);
    } finally {
      victim!.signal('SIGCONT');
    }
    // The thawed process finds its lease gone; a few more events give it time to try its late writes.
    await writeRounds(run, 6, 3, () => undefined);
    const total = before + ROUNDS * 2 * 2 + 6;
    await waitForEverything(run, total);
    await expectProjectionExactlyOnceInOrder(run, total);
  });
});

/** Appends `rounds` transactions of 2 events to the workflows, each transaction held open a little. */
async function writeRounds(run: FaultRun, seed: number, rounds: number, onWritten: () => void): Promise<void> {
  const store = new PersistentEventStore(new EventStoreRepository(run.dataSource));
  for (let round = 0; round < rounds; round += 1) {
    await run.dataSource.transaction(async (manager) => {
      const events: NewDomainEvent[] = [0, 1].map((k) => ({
        type: 'ordered.step',
        tenantId: TENANT,
        payload: { seed, round, k },
        metadata: { workflowId: WORKFLOWS[(seed * 7 + round * 3 + k) % WORKFLOWS.length] },
      }));
      await store.append(events, { manager });
      await sleep((seed + round) % 15); // keeps transactions open across each other's commits
    });
    onWritten();
  }
}

async function storedEvents(run: FaultRun): Promise<number> {
  const [{ events }] = await run.dataSource.query<{ events: number }[]>(
    `SELECT count(*)::int AS events FROM event_store WHERE event_type = 'ordered.step'`,
  );
  return events;
}

/** Until both handlers have handled every one of the `total` events (the projection, and the plain handler's calls). */
async function waitForEverything(run: FaultRun, total: number): Promise<void> {
  await waitFor(
    async () => {
      const [{ events }] = await run.dataSource.query<{ events: number }[]>(
        `SELECT count(DISTINCT event_id)::int AS events FROM ordered_effects`,
      );
      return events === total && new Set(calls(run).map((call) => call.eventId)).size === total;
    },
    { timeoutMs: 60_000, message: `all ${total} events handled by both handlers` },
  );
}

/** Versions gapless per workflow; the transactional handler's effects exactly one per event, in version order. */
async function expectProjectionExactlyOnceInOrder(run: FaultRun, total: number): Promise<void> {
  const effects = await run.dataSource.query<{ workflow_id: string; version: string }[]>(
    `SELECT workflow_id, version FROM ordered_effects ORDER BY id`,
  );
  expect(effects).toHaveLength(total);
  for (const workflow of WORKFLOWS) {
    const versions = effects.filter((row) => row.workflow_id === workflow).map((row) => Number(row.version));
    expect([workflow, versions]).toEqual([workflow, versions.map((_, i) => i + 1)]);
  }
}

interface Call {
  eventId: string;
  workflow: string;
  version: number;
  pid: number;
  at: number;
}

function calls(run: FaultRun): Call[] {
  if (!existsSync(run.files.calls)) return [];
  return readFileSync(run.files.calls, 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const [eventId, workflow, version, pid, at] = line.split(' ');
      return { eventId, workflow, version: Number(version), pid: Number(pid), at: Number(at) };
    });
}

/** The workflows whose partition keys fall in the buckets of `ordered-calls` that process `pid` holds. */
async function workflowsOwnedBy(run: FaultRun, pid: number): Promise<Set<string>> {
  const buckets = await run.dataSource.query<Array<{ workflow: string; bucket: number }>>(
    `SELECT w.workflow, ((hashtextextended($2 || '/' || w.workflow, 0) & 65535) % 16)::int AS bucket
     FROM unnest($1::text[]) AS w (workflow)`,
    [WORKFLOWS, TENANT],
  );
  const owners = await run.dataSource.query<Array<{ bucket: number; owner: string | null }>>(
    `SELECT bucket, owner FROM event_bus_ordered_checkpoints WHERE handler = 'ordered-calls'`,
  );
  const victims = new Set(
    owners.filter((row) => Number(row.owner?.split(':').at(-2)) === pid).map((row) => row.bucket),
  );
  return new Set(buckets.filter((row) => victims.has(row.bucket)).map((row) => row.workflow));
}

/** The pid of the process holding most of `ordered-calls`'s buckets (owners are `host:pid:random`). */
async function busiestOwner(run: FaultRun): Promise<number> {
  const rows = await run.dataSource.query<{ owner: string }[]>(
    `SELECT owner FROM event_bus_ordered_checkpoints WHERE handler = 'ordered-calls' AND owner IS NOT NULL
     GROUP BY owner ORDER BY count(*) DESC LIMIT 1`,
  );
  return Number(rows[0]?.owner.split(':').at(-2));
}
