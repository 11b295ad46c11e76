import { describe, expect, it } from '@jest/globals';
import {
  storedEventColumnNames,
  storedEventColumns,
  toStoredEvent,
  type EventStoreRow,
} from './stored-event.mapper.js';

const row = (overrides: Partial<EventStoreRow> = {}): EventStoreRow => ({
  id: 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa',
  event_type: 'a.b',
  tenant_id: '11111111-1111-4111-8111-111111111111',
  payload: { x: 1 },
  timestamp: new Date('2025-01-01T00:00:00.000Z'),
  created_at: new Date('2025-01-01T00:00:01.500Z'),
  sequence_number: '42',
  version: null,
  job_id: null,
  workflow_id: null,
  status: 'pending',
  metadata: null,
  ...overrides,
});

describe('toStoredEvent', () => {
  it('maps a row without metadata or job id', () => {
    expect(toStoredEvent(row())).toEqual({
      id: 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa',
      type: 'a.b',
      tenantId: '11111111-1111-4111-8111-111111111111',
      timestamp: '2025-01-01T00:00:00.000Z',
      payload: { x: 1 },
      sequenceNumber: 42,
      version: null,
      status: 'pending',
      createdAt: '2025-01-01T00:00:01.500Z',
    });
    expect(toStoredEvent(row())).not.toHaveProperty('metadata');
  });

  it('shows the job id inside metadata', () => {
    expect(toStoredEvent(row({ job_id: 'j1' })).metadata).toEqual({ jobId: 'j1' });
    expect(toStoredEvent(row({ job_id: 'j1', metadata: { workflowId: 'w' } })).metadata).toEqual({
      workflowId: 'w',
      jobId: 'j1',
    });
    expect(toStoredEvent(row({ metadata: { workflowId: 'w' } })).metadata).toEqual({ workflowId: 'w' });
  });

  it('accepts numbers for bigint, and takes timestamps read as ISO text as they are', () => {
    const event = toStoredEvent(
      row({ sequence_number: 7, timestamp: '2025-01-01T00:00:00.000Z', created_at: '2025-01-01T00:00:00.123Z' }),
    );
    expect(event).toMatchObject({
      sequenceNumber: 7,
      timestamp: '2025-01-01T00:00:00.000Z',
      createdAt: '2025-01-01T00:00:00.123Z',
    });
  });

  it('reads a workflow version (text from pg) as a number, and refuses one past 2^53', () => {
    expect(toStoredEvent(row({ workflow_id: 'w', version: '3' })).version).toBe(3);
    expect(() => toStoredEvent(row({ workflow_id: 'w', version: '9007199254740993' }))).toThrow(
      /version 9007199254740993 .* is not a safe integer/,
    );
  });

  it('reads a NULL status as the column default, processed', () => {
    expect(toStoredEvent(row({ status: null })).status).toBe('processed');
  });

  it('refuses a sequence number past the safe integers instead of rounding it', () => {
    expect(() => toStoredEvent(row({ sequence_number: '9007199254740993' }))).toThrow(RangeError);
  });
});

describe('storedEventColumns', () => {
  it('lists the columns, timestamps formatted as ISO text in UTC, qualified when asked', () => {
    const iso = (column: string): string =>
      `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS ${column.replace(/^e\./, '')}`;
    expect(storedEventColumns()).toBe(
      `id, event_type, tenant_id, payload, ${iso('timestamp')}, ${iso('created_at')}, sequence_number, version, job_id, ` +
        'workflow_id, status, metadata',
    );
    expect(storedEventColumns('e')).toBe(
      `e.id, e.event_type, e.tenant_id, e.payload, ${iso('e.timestamp')}, ${iso('e.created_at')}, ` +
        'e.sequence_number, e.version, e.job_id, e.workflow_id, e.status, e.metadata',
    );
    expect(storedEventColumnNames()).toBe(
      'id, event_type, tenant_id, payload, timestamp, created_at, sequence_number, version, job_id, workflow_id, status, ' +
        'metadata',
    );
  });
});
