/**
 * The publisher of the fault suite: LOOPS concurrent loops publish EVENT_TYPE events (PAUSE_MS apart
 * in each loop) until TOTAL were acknowledged (TOTAL=0: until SIGTERM), appending `eventId type` to ACKS_FILE after each
 * `publish` resolved. Every TRANSACTION_EVERY-th publish goes through a transaction of its own:
 * alternately committed (acknowledged) and rolled back (its id appended to ROLLBACKS_FILE, where no
 * effect may ever show). A rejected publish appends `name<TAB>message` to ERRORS_FILE and the loop
 * goes on. The event numbered STALL_AT carries `stall: true` (see worker.ts).
 *
 * KILL_AT=after-insert | after-addbulk with KILL_AFTER=n: the process SIGKILLs itself right after the
 * n-th INSERT of a publish batch, or the n-th `add`/`addBulk`, returned — before `publish` resolves.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import type { DataSource } from 'typeorm';
import type { NewDomainEvent } from '@app/event-bus';
import { appendLine, createBus, env, exitAfter, exitWithParent, openDataSource, report } from './child-bus.js';
import { killingQueue, killingStore } from './self-kill.js';

exitWithParent();
const acksFile = env('ACKS_FILE');
const rollbacksFile = env('ROLLBACKS_FILE');
const errorsFile = env('ERRORS_FILE');
const total = Number(env('TOTAL')) || Number.POSITIVE_INFINITY;
const loops = Number(process.env.LOOPS ?? 4);
const pauseMs = Number(process.env.PAUSE_MS ?? 10);
const transactionEvery = Number(process.env.TRANSACTION_EVERY ?? 0);
const stallAt = Number(process.env.STALL_AT ?? -1);
const type = process.env.EVENT_TYPE ?? 'fault.tick';
const tenantId = randomUUID();

class RolledBack extends Error {}

const dataSource = await openDataSource();
const killAfter = Number(process.env.KILL_AFTER ?? 1);
const queue: Queue | undefined = process.env.KILL_AT === 'after-addbulk' ? killingQueue(killAfter) : undefined;
const bus = createBus(dataSource, {
  worker: false,
  ...(process.env.KILL_AT === 'after-insert' ? { eventStore: killingStore(dataSource, killAfter) } : {}),
  ...(queue ? { queue } : {}),
});
await bus.initialize();
report({ ready: true, pid: process.pid });

let next = 0;
let acked = 0;
/** Acknowledged or in flight: loops stop claiming at TOTAL, so exactly TOTAL get acknowledged. */
let claimed = 0;
let rejected = 0;
let stopping = false;
// SIGTERM ends the stream: the loops finish their publish in flight, then the bus closes.
process.once('SIGTERM', () => (stopping = true));

await Promise.all(Array.from({ length: loops }, () => loop()));
report({ done: true, acked, rejected });
await bus.close().catch(() => undefined);
await queue?.close().catch(() => undefined);
await exitAfter(dataSource.destroy(), 3_000, 0);

async function loop(): Promise<void> {
  // The attempt cap keeps a publisher whose every publish is refused from spinning forever.
  while (!stopping && claimed < total && next < total * 4) {
    claimed++;
    const n = next++;
    const event: NewDomainEvent = { id: randomUUID(), type, tenantId, payload: { n, stall: n === stallAt } };
    const inTransaction = transactionEvery > 0 && n % transactionEvery === transactionEvery - 1;
    const rollBack = inTransaction && Math.floor(n / transactionEvery) % 2 === 1;
    try {
      if (inTransaction) await publishInTransaction(dataSource, event, rollBack);
      else await bus.publish(event);
      appendLine(acksFile, `${event.id} ${type}`);
      acked++;
    } catch (error) {
      claimed--;
      if (error instanceof RolledBack) {
        appendLine(rollbacksFile, event.id!);
      } else {
        if (!inTransaction) recordError(error);
        rejected++;
        await sleep(100); // an outage: do not spin
      }
    }
    if (pauseMs > 0) await sleep(pauseMs);
  }
}

async function publishInTransaction(source: DataSource, event: NewDomainEvent, rollBack: boolean): Promise<void> {
  await source.transaction(async (manager) => {
    try {
      await bus.publish(event, { manager });
    } catch (error) {
      recordError(error);
      throw error;
    }
    if (rollBack) throw new RolledBack();
  });
}

function recordError(error: unknown): void {
  const { name, message } = error instanceof Error ? error : { name: typeof error, message: String(error) };
  appendLine(errorsFile, `${name}\t${message.replace(/\s+/g, ' ')}`);
}
