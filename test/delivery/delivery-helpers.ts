/** Small helpers shared by the delivery suites: looking at statuses, handler records and jobs. */
import type { Queue } from 'bullmq';
import type { DataSource } from 'typeorm';
import type { EventStatus, NewDomainEvent } from '@app/event-bus';
import { waitFor } from '../support/wait-for.js';

export const TENANT_A = '11111111-1111-4111-8111-111111111111';
export const TENANT_B = '22222222-2222-4222-8222-222222222222';

/** A valid new event of this type (tenant A unless given). */
export function newEvent(type: string, overrides: Partial<NewDomainEvent> = {}): NewDomainEvent {
  return { type, tenantId: TENANT_A, payload: { n: 1 }, ...overrides };
}

/** The status of each event, by id, as committed. */
export async function statuses(dataSource: DataSource, ids: readonly string[]): Promise<Map<string, EventStatus>> {
  const rows: Array<{ id: string; status: EventStatus }> = await dataSource.query(
    `SELECT id, status FROM event_store WHERE id = ANY($1::uuid[])`,
    [ids],
  );
  return new Map(rows.map((row) => [row.id, row.status]));
}

export async function statusOf(dataSource: DataSource, id: string): Promise<EventStatus | undefined> {
  return (await statuses(dataSource, [id])).get(id);
}

/** Waits until every event has this status. */
export async function waitForStatus(
  dataSource: DataSource,
  ids: readonly string[],
  status: EventStatus,
  timeoutMs = 15_000,
): Promise<void> {
  await waitFor(
    async () => {
      const found = await statuses(dataSource, ids);
      return found.size === ids.length && [...found.values()].every((value) => value === status);
    },
    { timeoutMs, message: `${ids.length} event(s) ${status}` },
  );
}

export interface DeliveryRecordRow {
  handler: string;
  status: string;
  attempts: number;
  last_error: string | null;
  run: number;
  job_id: string | null;
}

/** The handler delivery records of one event, by handler name. */
export async function deliveryRecords(
  dataSource: DataSource,
  eventId: string,
): Promise<Map<string, DeliveryRecordRow>> {
  const rows: DeliveryRecordRow[] = await dataSource.query(
    `SELECT handler, status, attempts, last_error, run, job_id FROM event_handler_deliveries WHERE event_id = $1`,
    [eventId],
  );
  return new Map(rows.map((row) => [row.handler, row]));
}

/** Waits until the queue reports this state for the job (it settles just after its records are written). */
export async function waitForJobState(queue: Queue, jobId: string, state: string): Promise<void> {
  await waitFor(async () => (await queue.getJobState(jobId)) === state, { message: `job ${jobId} ${state}` });
}

/** A promise a test opens by hand, to hold a handler mid-run. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}
