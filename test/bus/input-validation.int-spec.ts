/**
 * The bus's own entry points check every value before SQL: a filter PostgreSQL cannot take (a NUL
 * byte in a workflow id or a handler name) and an event field it cannot store are
 * `EventValidationError`s naming the field, never driver errors.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { EventValidationError } from '@app/event-bus';
import { EntityManager } from 'typeorm';
import { createTestBus, transportBackends } from '../support/bus.js';
import type { TestBus } from '../support/bus.js';
import { createTestDatabase } from '../support/database.js';
import type { TestDatabase } from '../support/database.js';
import { newEvent } from './bus-fixtures.js';

const NUL = 'x\u0000y';

describe('the bus: values PostgreSQL cannot take are rejected before any SQL', () => {
  let db: TestDatabase;
  let t: TestBus;

  beforeAll(async () => {
    db = await createTestDatabase('bus-input-validation');
    t = await createTestBus({
      db,
      backend: transportBackends()[0],
      suite: 'bus-input-validation',
      worker: false,
      relay: false,
    });
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  const calls: Array<[string, string, () => Promise<unknown>]> = [
    ['getEventsByWorkflowId', 'workflowId', () => t.bus.getEventsByWorkflowId(NUL)],
    ['replayEvents', 'workflowId', () => t.bus.replayEvents(new Date(0), { workflowId: NUL })],
    ['getFailedDeliveries', 'handler', () => t.bus.getFailedDeliveries({ handler: NUL })],
    ['retryFailed', 'handler', () => t.bus.retryFailed({ handler: NUL })],
    ['publish', 'metadata', () => t.bus.publish(newEvent({ metadata: new Map() as never }))],
    ['publish', 'timestamp', () => t.bus.publish(newEvent({ timestamp: new Date(8.64e15) }))],
    ['publishAll', 'timestamp', () => t.bus.publishAll([newEvent(), newEvent({ timestamp: '0000-01-01T00:00:00Z' })])],
  ];

  it.each(calls)('%s rejects a bad %s with EventValidationError naming it', async (_method, field, call) => {
    const query = jest.spyOn(EntityManager.prototype, 'query');
    try {
      const error = await call().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(EventValidationError);
      expect((error as EventValidationError).field).toBe(field);
      expect(query).not.toHaveBeenCalled();
    } finally {
      query.mockRestore();
    }
  });

  it('names a failed-delivery filter field whose reading throws, with the thrown error as cause', async () => {
    const boom = new Error('boom');
    const filter = Object.defineProperty({}, 'tenantId', {
      enumerable: true,
      get() {
        throw boom;
      },
    });
    for (const call of [() => t.bus.getFailedDeliveries(filter), () => t.bus.retryFailed(filter)]) {
      const error = await call().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(EventValidationError);
      expect((error as EventValidationError).field).toBe('tenantId');
      expect((error as EventValidationError).cause).toBe(boom);
    }
  });
});
