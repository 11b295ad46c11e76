/**
 * An ordered-handlers worker of the fault suite (DESIGN.md 6.6–6.7). Two ordered handlers on
 * `ordered.**`, both from the beginning of the log:
 * - `ordered-projection`, transactional: inserts one row per call into `ordered_effects` through
 *   `context.manager` (a table with no unique key: a repeated call would show as a second row);
 * - `ordered-calls`: appends `eventId workflowId version pid timeMs` to CALLS_FILE after each call.
 * SIGTERM closes the bus (giving the buckets back) and exits.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { EventContext, StoredEvent } from '@app/event-bus';
import { appendLine, createBus, env, exitAfter, exitWithParent, openDataSource, report } from './child-bus.js';

exitWithParent();
const callsFile = env('CALLS_FILE');
const handlerMs = Number(process.env.HANDLER_MS ?? 5);

const dataSource = await openDataSource();
const bus = createBus(dataSource, {
  concurrency: Number(process.env.CONCURRENCY ?? 10),
  orderedTakeoverMs: Number(env('ORDERED_TAKEOVER_MS')),
});

await bus.subscribe(
  'ordered.**',
  async (event: StoredEvent, context: EventContext) => {
    await sleep(handlerMs);
    await context.manager!.query(
      `INSERT INTO ordered_effects (event_id, workflow_id, version, pid) VALUES ($1, $2, $3, $4)`,
      [event.id, event.metadata?.workflowId, event.version, process.pid],
    );
  },
  { name: 'ordered-projection', ordered: true, transactional: true, startFrom: 'beginning' },
);
await bus.subscribe(
  'ordered.**',
  async (event: StoredEvent) => {
    await sleep(handlerMs);
    appendLine(
      callsFile,
      `${event.id} ${String(event.metadata?.workflowId)} ${event.version} ${process.pid} ${Date.now()}`,
    );
  },
  { name: 'ordered-calls', ordered: true, startFrom: 'beginning' },
);
await bus.initialize();
report({ ready: true, pid: process.pid });

process.once('SIGTERM', () => {
  void bus
    .close()
    .then(
      () => 0,
      () => 1,
    )
    .then((code) => exitAfter(dataSource.destroy(), 3_000, code));
});
