/**
 * A worker of the fault suite: consumes the scenario's queue and appends `eventId handler pid` to
 * CALLS_FILE after each handler call. Handlers (see ../support/handlers.ts for the oracle's copy):
 * `effect` on every `fault.**` event, `audit` on `fault.tick`, and `ship` on `fault.order.placed`,
 * which publishes a follow-up `fault.order.shipped` and appends its id to ACKS_FILE once acknowledged.
 * An event whose payload says `stall: true` blocks the event loop for STALL_MS, once across all
 * workers (the STALL_MARKER file decides who). SIGTERM closes the bus, reports how long it took, and exits 0 (1 if `close()` rejected).
 *
 * TRANSACTIONAL=1 adds `projection`, a transactional handler on `fault.**` that inserts a row
 * (`event_id`, `pid`) into `tx_projection` through `context.manager` and holds its transaction for
 * HANDLER_MS. On the event whose payload says `stall: true` it reports `{ holding }` once across all
 * workers (the TX_HOLD_MARKER file decides who) and holds its transaction TX_HOLD_MS longer, for the
 * test to stop the process (SIGSTOP) in the middle of it.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EventContext, StoredEvent } from '@app/event-bus';
import { appendLine, createBus, env, exitAfter, exitWithParent, openDataSource, report } from './child-bus.js';

exitWithParent();
const callsFile = env('CALLS_FILE');
const acksFile = env('ACKS_FILE');
const handlerMs = Number(process.env.HANDLER_MS ?? 20);

const dataSource = await openDataSource();
const bus = createBus(dataSource);

const called = (event: StoredEvent, handler: string): void =>
  appendLine(callsFile, `${event.id} ${handler} ${process.pid}`);

await bus.subscribe(
  'fault.**',
  async (event: StoredEvent<{ stall?: boolean }>) => {
    stallOnce(event);
    await sleep(handlerMs);
    called(event, 'effect');
  },
  { name: 'effect' },
);
await bus.subscribe(
  'fault.tick',
  async (event: StoredEvent) => {
    await sleep(handlerMs);
    called(event, 'audit');
  },
  { name: 'audit' },
);
await bus.subscribe(
  'fault.order.placed',
  async (event: StoredEvent) => {
    // A deterministic id: a delivery repeated after a crash publishes the same follow-up (idempotent).
    const followUp = await bus.publish({
      id: followUpId(event.id),
      type: 'fault.order.shipped',
      tenantId: event.tenantId,
      payload: { order: event.id },
    });
    appendLine(acksFile, `${followUp.id} ${followUp.type}`);
    called(event, 'ship');
  },
  { name: 'ship' },
);
if (process.env.TRANSACTIONAL === '1') {
  await bus.subscribe(
    'fault.**',
    async (event: StoredEvent<{ stall?: boolean }>, context: EventContext) => {
      await context.manager!.query('INSERT INTO tx_projection (event_id, pid) VALUES ($1, $2)', [
        event.id,
        process.pid,
      ]);
      await holdOnce(event);
      await sleep(handlerMs);
    },
    { name: 'projection', transactional: true },
  );
}
await bus.initialize();
report({ ready: true, pid: process.pid });

process.once('SIGTERM', () => {
  const started = Date.now();
  report({ closing: true });
  void bus
    .close()
    .then(
      () => {
        report({ closed: true, ms: Date.now() - started });
        return 0;
      },
      (error: Error) => {
        report({ closeFailed: error.message, ms: Date.now() - started });
        return 1;
      },
    )
    // The DataSource is the script's own; its end is bounded separately (a frozen server never answers).
    .then((code) => exitAfter(dataSource.destroy(), 3_000, code));
});

/** Blocks the whole process (no timers, no lock renewal) past the lock duration, the first time only. */
function stallOnce(event: StoredEvent<{ stall?: boolean }>): void {
  const marker = process.env.STALL_MARKER;
  if (!event.payload?.stall || !marker) return;
  try {
    closeSync(openSync(marker, 'wx'));
  } catch {
    return; // someone stalled already
  }
  report({ stalling: event.id });
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(env('STALL_MS')));
  report({ stalled: event.id });
}

/** Keeps the transaction open TX_HOLD_MS longer, the first time only, having said so on stdout. */
async function holdOnce(event: StoredEvent<{ stall?: boolean }>): Promise<void> {
  const marker = process.env.TX_HOLD_MARKER;
  if (!event.payload?.stall || !marker) return;
  try {
    closeSync(openSync(marker, 'wx'));
  } catch {
    return; // someone held one already
  }
  report({ holding: event.id });
  await sleep(Number(env('TX_HOLD_MS')));
}

function followUpId(orderId: string): string {
  const hex = createHash('sha1').update(`follow-up:${orderId}`).digest('hex');
  // Shaped as a version-5 UUID (name-based, SHA-1).
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((parseInt(hex[16], 16) & 3) | 8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
