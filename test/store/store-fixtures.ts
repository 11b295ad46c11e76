import { randomUUID } from 'node:crypto';
import type { NewDomainEvent } from '@app/event-bus';
import { EventStoreRepository, PersistentEventStore } from '@app/event-bus';
import type { TestDatabase } from '../support/database.js';

/** Helpers shared by the store's integration suites. */

export const TENANT_A = '11111111-1111-4111-8111-111111111111';
export const TENANT_B = '22222222-2222-4222-8222-222222222222';

export function storeFor(db: TestDatabase, maxPayloadBytes?: number): PersistentEventStore {
  return new PersistentEventStore(new EventStoreRepository(db.dataSource), { maxPayloadBytes });
}

export function newEvent(overrides: Partial<NewDomainEvent> = {}): NewDomainEvent {
  return {
    id: randomUUID(),
    type: 'workflow.node.triggered',
    tenantId: TENANT_A,
    timestamp: '2025-01-01T00:00:00.000Z',
    payload: { nodeId: 'n1', attempt: 1 },
    ...overrides,
  };
}

export async function countRows(db: TestDatabase): Promise<number> {
  const [{ count }] = await db.dataSource.query<{ count: string }[]>('SELECT count(*) AS count FROM event_store');
  return Number(count);
}

export async function clearEvents(db: TestDatabase): Promise<void> {
  // CASCADE: later migrations add tables that reference events (per-handler delivery records).
  await db.dataSource.query('TRUNCATE event_store CASCADE');
}
