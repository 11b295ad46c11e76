import { describe, expect, it } from '@jest/globals';
import type { EventValidationIssue } from '../shared/errors.js';
import { EventValidationError } from '../shared/errors.js';
import {
  checkBatchSize,
  checkFilter,
  checkQueryOptions,
  DEFAULT_STREAM_BATCH_SIZE,
  throwIfInvalid,
} from './event-filter.validation.js';
import type { EventFilter } from './event-store.js';

const TENANT = '11111111-1111-4111-8111-111111111111';

function run<T>(check: (issues: EventValidationIssue[]) => T): { result: T; fields: string[] } {
  const issues: EventValidationIssue[] = [];
  const result = check(issues);
  return { result, fields: issues.map((issue) => issue.field) };
}

describe('checkQueryOptions', () => {
  it('accepts absent and valid options, normalizing the tenant', () => {
    expect(run((issues) => checkQueryOptions(undefined, issues))).toEqual({ result: {}, fields: [] });
    expect(run((issues) => checkQueryOptions({ tenantId: undefined }, issues))).toEqual({ result: {}, fields: [] });
    expect(
      run((issues) => checkQueryOptions({ tenantId: TENANT.toUpperCase(), afterSequence: 0, limit: 1 }, issues)),
    ).toEqual({
      result: { tenantId: TENANT, afterSequence: 0, limit: 1 },
      fields: [],
    });
  });

  it.each([
    [{ tenantId: '' }, 'tenantId'],
    [{ tenantId: null }, 'tenantId'],
    [{ tenantId: "' OR 1=1 --" }, 'tenantId'],
    [{ afterSequence: -1 }, 'afterSequence'],
    [{ afterSequence: 1.5 }, 'afterSequence'],
    [{ afterSequence: Number.MAX_SAFE_INTEGER + 1 }, 'afterSequence'],
    [{ afterSequence: '1' }, 'afterSequence'],
    [{ limit: 0 }, 'limit'],
    [{ limit: -5 }, 'limit'],
    [{ limit: Infinity }, 'limit'],
    [{ limit: null }, 'limit'],
  ])('rejects %p', (options, field) => {
    expect(run((issues) => checkQueryOptions(options as never, issues)).fields).toEqual([field]);
  });

  it('rejects options that are not an object', () => {
    expect(run((issues) => checkQueryOptions('x' as never, issues)).fields).toEqual(['options']);
  });

  it('shows short bad values and only describes long ones', () => {
    const issues: EventValidationIssue[] = [];
    checkQueryOptions({ tenantId: "' OR 1=1 --" }, issues);
    checkQueryOptions({ tenantId: 'x'.repeat(100) }, issues);
    expect(issues.map((issue) => issue.message)).toEqual([
      `must be a UUID, got "' OR 1=1 --"`,
      'must be a UUID, got a string of 100 characters',
    ]);
  });
});

describe('checkFilter', () => {
  it('normalizes single values into lists', () => {
    const from = new Date(0);
    const filter: EventFilter = { type: 'a.b', status: 'pending', workflowId: 'w', from, to: new Date(1) };
    expect(run((issues) => checkFilter(filter, issues)).result).toEqual({
      types: ['a.b'],
      statuses: ['pending'],
      workflowId: 'w',
      from,
      to: new Date(1),
    });
    expect(run((issues) => checkFilter({ type: ['a', 'b'], status: ['failed', 'processed'] }, issues)).result).toEqual({
      types: ['a', 'b'],
      statuses: ['failed', 'processed'],
    });
  });

  it.each([
    [{ type: 'a.*' }, ['type']],
    [{ type: [] }, ['type']],
    [{ status: [] }, ['status']],
    [{ type: ['a', 'b..c', 3] }, ['type[1]', 'type[2]']],
    [{ workflowId: '' }, ['workflowId']],
    [{ from: new Date('x') }, ['from']],
    [{ to: '2025-01-01' }, ['to']],
    [{ status: 'done' }, ['status']],
    [{ status: ['pending', 'nope'] }, ['status']],
    [{ tenantId: 'x', limit: 0, type: '' }, ['tenantId', 'limit', 'type']],
  ])('rejects %p', (filter, fields) => {
    expect(run((issues) => checkFilter(filter as never, issues)).fields).toEqual(fields);
  });
});

describe('checkBatchSize', () => {
  it('defaults to 1000 and rejects non-positive sizes', () => {
    expect(run((issues) => checkBatchSize(undefined, issues))).toEqual({
      result: DEFAULT_STREAM_BATCH_SIZE,
      fields: [],
    });
    expect(run((issues) => checkBatchSize({ batchSize: 50 }, issues)).result).toBe(50);
    expect(run((issues) => checkBatchSize({ batchSize: 0 }, issues)).fields).toEqual(['batchSize']);
  });
});

describe('throwIfInvalid', () => {
  it('throws every issue at once, and nothing without issues', () => {
    expect(() => throwIfInvalid([])).not.toThrow();
    expect(() =>
      throwIfInvalid([
        { field: 'a', message: 'm' },
        { field: 'b', message: 'n' },
      ]),
    ).toThrow(
      new EventValidationError([
        { field: 'a', message: 'm' },
        { field: 'b', message: 'n' },
      ]),
    );
  });
});
