/**
 * The invariants every fault scenario checks, from the oracle files and the event store (DESIGN.md
 * §1 and §6.1):
 * - every acknowledged event ends `processed` or `failed` within the bound, and so does every row
 *   stored at all (recovery looks at every unfinished row, acknowledged or not);
 * - every handler that matches an acknowledged event ran at least once for it;
 * - a publish whose transaction rolled back has no effect: no row, no handler call;
 * - a rejected publish rejects with one of the library's errors (an `EventBusError`), never a raw driver error.
 * Duplicate handler calls are allowed (at-least-once) and counted.
 */
import type { DataSource } from 'typeorm';
import * as library from '@app/event-bus';
import { expectedHandlers } from './handlers.js';
import { readAcks, readCalls, readPublishErrors, readRollbacks, type OracleFiles } from './oracle-files.js';

export interface FaultOutcome {
  /** Acknowledged events (follow-ups included). */
  events: number;
  /** Acknowledged events not settled, or with a matching handler that never ran. */
  lost: number;
  duplicates: number;
  rejectedPublishes: number;
  /** What broke the contract, one line per kind; empty when the scenario passed. */
  violations: string[];
}

interface Snapshot {
  acks: Map<string, string>;
  unsettled: Map<string, string>;
  missingCalls: string[];
}

const SAMPLE = 5;

/** Polls until every invariant that needs time holds or `boundMs` passes, then reports every violation. */
export async function checkInvariants(
  dataSource: DataSource,
  files: OracleFiles,
  { boundMs }: { boundMs: number },
): Promise<FaultOutcome> {
  const deadline = Date.now() + boundMs;
  let snapshot = await observe(dataSource, files).catch(() => undefined);
  for (;;) {
    if (snapshot && snapshot.unsettled.size === 0 && snapshot.missingCalls.length === 0) break;
    if (Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
    // The database may still be restarting: a failed look counts as "not yet".
    snapshot = (await observe(dataSource, files).catch(() => undefined)) ?? snapshot;
  }
  if (!snapshot) throw new Error('The event store could not be read at all within the bound');

  const calls = readCalls(files);
  const perDelivery = new Map<string, number>();
  for (const call of calls)
    perDelivery.set(`${call.eventId} ${call.handler}`, (perDelivery.get(`${call.eventId} ${call.handler}`) ?? 0) + 1);
  const duplicates = [...perDelivery.values()].reduce((sum, count) => sum + count - 1, 0);

  const violations: string[] = [];
  const lostIds = new Set<string>();
  const unsettledAcked = [...snapshot.acks.keys()].filter((id) => snapshot.unsettled.has(id));
  unsettledAcked.forEach((id) => lostIds.add(id));
  if (unsettledAcked.length > 0) {
    violations.push(
      `${unsettledAcked.length} acknowledged event(s) not processed/failed after ${boundMs} ms: ${sample(
        unsettledAcked.map((id) => `${id} (${snapshot.unsettled.get(id)})`),
      )}`,
    );
  }
  const strandedOthers = [...snapshot.unsettled].filter(([id]) => !snapshot.acks.has(id));
  if (strandedOthers.length > 0) {
    violations.push(
      `${strandedOthers.length} stored but unacknowledged event(s) never settled: ${sample(
        strandedOthers.map(([id, status]) => `${id} (${status})`),
      )}`,
    );
  }
  if (snapshot.missingCalls.length > 0) {
    snapshot.missingCalls.forEach((delivery) => lostIds.add(delivery.split(' ')[0]));
    violations.push(`${snapshot.missingCalls.length} handler call(s) never made: ${sample(snapshot.missingCalls)}`);
  }
  violations.push(...(await rollbackEffects(dataSource, files, calls)));
  const errors = readPublishErrors(files);
  const raw = errors.filter((error) => !LIBRARY_ERRORS.has(error.name));
  if (raw.length > 0) {
    violations.push(
      `${raw.length} publish rejection(s) not an EventBusError: ${sample(raw.map((e) => `${e.name}: ${e.message}`))}`,
    );
  }
  return {
    events: snapshot.acks.size,
    lost: lostIds.size,
    duplicates,
    rejectedPublishes: errors.length,
    violations,
  };
}

/** The names of the library's error classes: what a rejected publish may be. */
const LIBRARY_ERRORS = new Set(
  Object.values(library)
    .filter(
      (value): value is typeof library.EventBusError =>
        typeof value === 'function' && value.prototype instanceof library.EventBusError,
    )
    .map((errorClass) => errorClass.name),
);

async function observe(dataSource: DataSource, files: OracleFiles): Promise<Snapshot> {
  const acks = readAcks(files);
  const rows = await dataSource.query<{ id: string; status: string }[]>(
    `SELECT id, status FROM event_store WHERE status NOT IN ('processed', 'failed')`,
  );
  const unsettled = new Map(rows.map((row) => [row.id, row.status]));
  const stored = await dataSource.query<{ id: string }[]>(`SELECT id FROM event_store WHERE id = ANY($1::uuid[])`, [
    [...acks.keys()],
  ]);
  const storedIds = new Set(stored.map((row) => row.id));
  for (const id of acks.keys()) if (!storedIds.has(id)) unsettled.set(id, 'missing');

  const made = new Set(readCalls(files).map((call) => `${call.eventId} ${call.handler}`));
  const missingCalls = [...acks].flatMap(([id, type]) =>
    expectedHandlers(type)
      .map((handler) => `${id} ${handler}`)
      .filter((delivery) => !made.has(delivery)),
  );
  return { acks, unsettled, missingCalls };
}

async function rollbackEffects(
  dataSource: DataSource,
  files: OracleFiles,
  calls: { eventId: string }[],
): Promise<string[]> {
  const rolledBack = readRollbacks(files);
  if (rolledBack.length === 0) return [];
  const stored = await dataSource.query<{ id: string }[]>(`SELECT id FROM event_store WHERE id = ANY($1::uuid[])`, [
    rolledBack,
  ]);
  const set = new Set(rolledBack);
  const handled = calls.filter((call) => set.has(call.eventId)).map((call) => call.eventId);
  const violations: string[] = [];
  if (stored.length > 0)
    violations.push(`${stored.length} rolled-back event(s) stored: ${sample(stored.map((row) => row.id))}`);
  if (handled.length > 0)
    violations.push(`${handled.length} handler call(s) for rolled-back events: ${sample(handled)}`);
  return violations;
}

function sample(items: string[]): string {
  return items.slice(0, SAMPLE).join(', ') + (items.length > SAMPLE ? `, … (${items.length - SAMPLE} more)` : '');
}
