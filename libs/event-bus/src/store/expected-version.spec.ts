import { describe, expect, it } from '@jest/globals';
import { EventValidationError } from '../shared/errors.js';
import { prepareEvent } from '../events/event-validator.js';
import { checkExpectedVersion, expectedStream } from './expected-version.js';

const TENANT = '11111111-1111-4111-8111-111111111111';
const OTHER = '22222222-2222-4222-8222-222222222222';
const event = (workflowId?: string, tenantId = TENANT) =>
  prepareEvent({ type: 'a.b', tenantId, payload: null, ...(workflowId ? { metadata: { workflowId } } : {}) });

const validationError = (call: () => unknown): EventValidationError => {
  try {
    call();
  } catch (error) {
    if (error instanceof EventValidationError) return error;
    throw error;
  }
  throw new Error('expected an EventValidationError');
};

describe('checkExpectedVersion', () => {
  it('accepts 0 and positive safe integers', () => {
    for (const version of [0, 1, 42, Number.MAX_SAFE_INTEGER])
      expect(() => checkExpectedVersion(version)).not.toThrow();
  });

  it.each([[-1], [1.5], [Number.NaN], [Number.POSITIVE_INFINITY], [2 ** 53], ['3'], [null], [3n]])(
    'refuses %p, naming the field',
    (version) => {
      const error = validationError(() => checkExpectedVersion(version));
      expect(error.field).toBe('expectedVersion');
      expect(error.message).toMatch(/non-negative integer/);
    },
  );
});

describe('expectedStream', () => {
  it("is the events' one stream (tenant and workflow), undefined for no events", () => {
    expect(expectedStream([event('wf'), event('wf')], 3)).toEqual({ tenantId: TENANT, workflowId: 'wf' });
    expect(expectedStream([], 0)).toBeUndefined();
  });

  it('checks the version first, even for no events', () => {
    expect(validationError(() => expectedStream([], -1)).field).toBe('expectedVersion');
  });

  it('needs a workflow on every event; a lone event is not spoken of as a batch', () => {
    expect(validationError(() => expectedStream([event()], 0))).toMatchObject({
      field: 'metadata.workflowId',
      index: undefined,
    });
    expect(validationError(() => expectedStream([event('wf'), event()], 0))).toMatchObject({
      field: 'metadata.workflowId',
      index: 1,
    });
  });

  it('refuses events of two workflows or two tenants, naming the first that differs', () => {
    expect(validationError(() => expectedStream([event('wf'), event('wf'), event('other')], 0))).toMatchObject({
      field: 'metadata.workflowId',
      index: 2,
    });
    expect(validationError(() => expectedStream([event('wf'), event('wf', OTHER)], 0))).toMatchObject({
      field: 'tenantId',
      index: 1,
    });
  });
});
