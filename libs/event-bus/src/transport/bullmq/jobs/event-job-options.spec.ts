import { describe, expect, it } from '@jest/globals';
import type { StoredEvent } from '../../../events/domain-event.js';
import { EVENT_BATCH_JOB, EVENT_JOB, isBatchJobId } from './event-jobs.js';
import { eventBatchJob, eventJob } from './event-job-options.js';

const event: StoredEvent = {
  id: '0b7d6f3e-1c2a-4e5f-8a9b-0c1d2e3f4a5b',
  type: 'workflow.started',
  timestamp: '2026-01-01T00:00:00.000Z',
  tenantId: '11111111-1111-4111-8111-111111111111',
  payload: { workflowId: 'wf-1' },
  metadata: { workflowId: 'wf-1' },
  sequenceNumber: 7,
  version: 1,
  status: 'pending',
  createdAt: '2026-01-01T00:00:00.100Z',
};

describe('eventJob', () => {
  it('is one job named after its kind, with the event id as job id and the whole event as data', () => {
    const job = eventJob(event);
    expect(job.name).toBe(EVENT_JOB);
    expect(job.opts.jobId).toBe(event.id);
    expect(job.data.event).toEqual({ ...event, metadata: { workflowId: 'wf-1', jobId: event.id } });
  });

  it('keeps finished jobs a while, so a late duplicate add stays a no-op', () => {
    const { opts } = eventJob(event);
    expect(opts.removeOnComplete).toMatchObject({ age: expect.any(Number), count: expect.any(Number) });
    expect(opts.removeOnFail).toMatchObject({ age: expect.any(Number) });
  });

  it('gives every job option objects of its own', () => {
    expect(eventJob(event).opts.backoff).not.toBe(eventJob(event).opts.backoff);
    expect(event.metadata).toEqual({ workflowId: 'wf-1' });
  });
});

describe('eventBatchJob', () => {
  const second: StoredEvent = { ...event, id: '1c8e7a4f-2d3b-4f60-9bac-1d2e3f4a5b6c', sequenceNumber: 8 };

  it('is one job of several events, named after the first, each event carrying the job id', () => {
    const job = eventBatchJob([event, second], true);
    expect(job.name).toBe(EVENT_BATCH_JOB);
    expect(job.opts.jobId).toBe(`batch__${event.id}`);
    expect(isBatchJobId(job.opts.jobId!)).toBe(true);
    expect(isBatchJobId(event.id)).toBe(false);
    expect(job.data.fresh).toBe(true);
    expect(job.data.events.map((batched) => [batched.id, batched.metadata?.jobId])).toEqual([
      [event.id, `batch__${event.id}`],
      [second.id, `batch__${event.id}`],
    ]);
  });

  it("has a single event job's attempts and retention", () => {
    const { opts } = eventBatchJob([event, second]);
    const single = eventJob(event).opts;
    expect({ ...opts, jobId: undefined }).toEqual({ ...single, jobId: undefined });
  });
});
