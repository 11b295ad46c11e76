import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { EventBusError, type PersistentEventStore, type StoredEvent } from '@app/event-bus';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { clearEvents, newEvent, storeFor } from './store-fixtures.js';

describe('PersistentEventStore: updateStatus', () => {
  let db: TestDatabase;
  let store: PersistentEventStore;

  beforeAll(async () => {
    db = await createTestDatabase('store-update-status');
    store = storeFor(db);
  });
  afterAll(() => db.drop());
  beforeEach(() => clearEvents(db));

  const ids = (events: StoredEvent[]): string[] => events.map((event) => event.id);

  it('sets the status and the job id, which reads back as metadata.jobId', async () => {
    const plain = await store.save(newEvent());
    const withMetadata = await store.save(newEvent({ metadata: { workflowId: 'w' } }));

    await store.updateStatus(plain.id, 'processing', plain.id);
    expect(await store.findById(plain.id)).toMatchObject({ status: 'processing', metadata: { jobId: plain.id } });
    // Without a job id the recorded one stays.
    await store.updateStatus(plain.id, 'processed');
    expect(await store.findById(plain.id)).toMatchObject({ status: 'processed', metadata: { jobId: plain.id } });

    await store.updateStatus(withMetadata.id, 'failed', 'job-7');
    expect((await store.findById(withMetadata.id))?.metadata).toEqual({ workflowId: 'w', jobId: 'job-7' });
    // The job id has its own column; the stored metadata stays as the caller gave it.
    const [row] = await db.dataSource.query<{ job_id: string; metadata: unknown }[]>(
      'SELECT job_id, metadata FROM event_store WHERE id = $1',
      [withMetadata.id],
    );
    expect(row).toEqual({ job_id: 'job-7', metadata: { workflowId: 'w' } });
  });

  it('changes only the event it names', async () => {
    const [a, b] = await store.saveAll([newEvent(), newEvent()]);
    await store.updateStatus(a.id.toUpperCase(), 'processed', 'job-a');
    expect(await store.findById(b.id)).toEqual(b);
  });

  it('makes statuses queryable', async () => {
    const [a, b, c] = await store.saveAll([newEvent(), newEvent(), newEvent()]);
    await store.updateStatus(a.id, 'processed', 'job-a');
    await store.updateStatus(c.id, 'failed');
    expect(ids(await store.query({ status: 'pending' }))).toEqual([b.id]);
    expect(ids(await store.query({ status: ['processed', 'failed'] }))).toEqual([a.id, c.id]);
  });

  it('rejects an unknown event, a bad id, a bad status and an empty job id, changing nothing', async () => {
    const event = await store.save(newEvent());
    await expect(store.updateStatus(randomUUID(), 'processed')).rejects.toBeInstanceOf(EventBusError);
    await expect(store.updateStatus('nope', 'processed')).rejects.toMatchObject({ field: 'id' });
    await expect(store.updateStatus(event.id, 'done' as 'processed')).rejects.toMatchObject({ field: 'status' });
    await expect(store.updateStatus(event.id, 'processed', '')).rejects.toMatchObject({ field: 'jobId' });
    expect(await store.findById(event.id)).toEqual(event);
  });
});
