import { randomUUID } from 'node:crypto';
import type { NewDomainEvent, StoredEvent } from '@app/event-bus';
import type { TestBus } from '../support/bus.js';
import type { TestDatabase } from '../support/database.js';
import { waitFor } from '../support/wait-for.js';

/** Helpers shared by the bus suites (test/bus). */

export const TENANT = '33333333-3333-4333-8333-333333333333';

export function newEvent(overrides: Partial<NewDomainEvent> = {}): NewDomainEvent {
  return {
    id: randomUUID(),
    type: 'workflow.node.triggered',
    tenantId: TENANT,
    payload: { nodeId: 'n1' },
    ...overrides,
  };
}

export interface EventRow {
  id: string;
  status: string;
  job_id: string | null;
  sequence_number: string;
}

/** The stored rows of these ids (or of every event), in sequence order. */
export async function eventRows(db: TestDatabase, ids?: readonly string[]): Promise<EventRow[]> {
  return ids
    ? db.dataSource.query(
        'SELECT id, status, job_id, sequence_number FROM event_store WHERE id = ANY($1::uuid[]) ORDER BY sequence_number',
        [ids],
      )
    : db.dataSource.query('SELECT id, status, job_id, sequence_number FROM event_store ORDER BY sequence_number');
}

/**
 * True once each of these published events' rows records the job id `publish` returned in its
 * metadata (the event's own id, or its batch job's `batch__…`).
 */
export async function jobIdsRecorded(db: TestDatabase, published: readonly StoredEvent[]): Promise<boolean> {
  const expected = new Map(published.map((event) => [event.id, event.metadata?.jobId]));
  const rows = await eventRows(db, [...expected.keys()]);
  return (
    rows.length === expected.size && rows.every((row) => row.job_id !== null && row.job_id === expected.get(row.id))
  );
}

export async function countEvents(db: TestDatabase): Promise<number> {
  const [{ count }] = await db.dataSource.query<{ count: string }[]>('SELECT count(*) AS count FROM event_store');
  return Number(count);
}

/** True once every one of these events is `processed`. */
export async function allProcessed(db: TestDatabase, ids: readonly string[]): Promise<boolean> {
  const rows = await eventRows(db, ids);
  return rows.length === ids.length && rows.every((row) => row.status === 'processed');
}

/** Records handler calls by event id. */
export class CallLog {
  readonly calls: StoredEvent[] = [];
  readonly handler = async (event: StoredEvent): Promise<void> => {
    this.calls.push(event);
  };
  count(id: string): number {
    return this.calls.filter((event) => event.id === id).length;
  }
  has(ids: readonly string[]): boolean {
    const seen = new Set(this.calls.map((event) => event.id));
    return ids.every((id) => seen.has(id));
  }
}

/**
 * Removes an event's job once it has completed (its status is committed just before that, while the
 * job is still locked), so a second enqueue of the same id would be a new job that delivers again.
 */
export async function removeFinishedJob(t: TestBus, jobId: string): Promise<void> {
  await waitFor(async () => (await t.inspect().getJobState(jobId)) === 'completed', {
    message: `job ${jobId} completed`,
  });
  await t.inspect().remove(jobId);
}
