import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { EventValidationError, type EventQueryOptions, type PersistentEventStore } from '@app/event-bus';
import { EntityManager } from 'typeorm';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { storeFor, TENANT_A } from './store-fixtures.js';

/**
 * A filter that is given but malformed is an `EventValidationError` before any SQL runs: a spy on
 * the DataSource's query method (it still calls through) shows that nothing reached PostgreSQL.
 */
describe('PersistentEventStore: malformed filters are rejected before any SQL', () => {
  let db: TestDatabase;
  let store: PersistentEventStore;

  beforeAll(async () => {
    db = await createTestDatabase('store-filter-validation');
    store = storeFor(db);
  });
  afterAll(() => db.drop());

  const badTenants: unknown[] = ['', null, "' OR 1=1 --", 'not-a-uuid', 42, {}];
  const badPaging: [keyof EventQueryOptions, unknown][] = [
    ['limit', 0],
    ['limit', -1],
    ['limit', 1.5],
    ['limit', '10'],
    ['limit', NaN],
    ['afterSequence', -1],
    ['afterSequence', 2.5],
    ['afterSequence', '5'],
    ['afterSequence', null],
  ];
  // Each query method, called with trailing options.
  const methods: [string, (options: EventQueryOptions) => Promise<unknown>][] = [
    ['getEventsByType', (options) => store.getEventsByType('workflow.started', options)],
    ['getEventsByTenant', (options) => store.getEventsByTenant(TENANT_A, options)],
    ['getEventsByTimeRange', (options) => store.getEventsByTimeRange(new Date(0), new Date(), options)],
    ['getEventsByWorkflowId', (options) => store.getEventsByWorkflowId('wf-1', options)],
    ['query', (options) => store.query(options)],
    ['stream', async (options) => store.stream(options)],
  ];

  const expectRejectedWithoutSql = async (call: () => Promise<unknown>, field: string): Promise<void> => {
    const query = jest.spyOn(EntityManager.prototype, 'query');
    try {
      const error = await call().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(EventValidationError);
      expect((error as EventValidationError).field).toBe(field);
      expect(query).not.toHaveBeenCalled();
    } finally {
      query.mockRestore();
    }
  };

  it.each(methods)('%s rejects every malformed tenantId', async (_name, call) => {
    for (const tenantId of badTenants) {
      await expectRejectedWithoutSql(() => call({ tenantId: tenantId as string }), 'tenantId');
    }
  });

  it.each(methods)('%s rejects a malformed limit or afterSequence', async (_name, call) => {
    for (const [field, value] of badPaging) {
      await expectRejectedWithoutSql(() => call({ [field]: value }), field);
    }
  });

  it('rejects malformed arguments of each method', async () => {
    await expectRejectedWithoutSql(() => store.getEventsByType('workflow.*'), 'type');
    await expectRejectedWithoutSql(() => store.getEventsByTenant(''), 'tenantId');
    await expectRejectedWithoutSql(() => store.getEventsByTenant(null as unknown as string), 'tenantId');
    await expectRejectedWithoutSql(() => store.getEventsByWorkflowId(''), 'workflowId');
    await expectRejectedWithoutSql(() => store.query({ type: ['ok.type', ''] }), 'type[1]');
    await expectRejectedWithoutSql(() => store.query({ status: 'done' as 'failed' }), 'status');
    await expectRejectedWithoutSql(() => store.query({ from: new Date('x') }), 'from');
    await expectRejectedWithoutSql(() => store.query({ workflowId: 5 as unknown as string }), 'workflowId');
    await expectRejectedWithoutSql(async () => store.stream({ batchSize: 0 }), 'batchSize');
  });

  describe('values PostgreSQL cannot take', () => {
    const nul = 'wf\u0000x';

    it('rejects a NUL byte in a workflowId filter, in each method that takes one', async () => {
      await expectRejectedWithoutSql(() => store.getEventsByWorkflowId(nul), 'workflowId');
      await expectRejectedWithoutSql(() => store.query({ workflowId: nul }), 'workflowId');
      await expectRejectedWithoutSql(async () => store.stream({ workflowId: nul }), 'workflowId');
    });

    it.each<[string, Date]>([
      ['year 0', new Date('0000-06-01T00:00:00.000Z')],
      ['a year before 1', new Date(Date.UTC(-5, 0, 1))],
      ['the latest JavaScript date', new Date(8.64e15)],
      ['the earliest JavaScript date', new Date(-8.64e15)],
      ['year 10000', new Date('+010000-01-01T00:00:00.000Z')],
    ])('rejects %s as a date filter', async (_label, date) => {
      await expectRejectedWithoutSql(() => store.query({ from: date }), 'from');
      await expectRejectedWithoutSql(() => store.query({ to: date }), 'to');
      await expectRejectedWithoutSql(() => store.getEventsByTimeRange(new Date(0), date), 'to');
    });

    it('accepts the first and the last instant of years 1 to 9999', async () => {
      await expect(
        store.getEventsByTimeRange(new Date('0001-01-01T00:00:00.000Z'), new Date('9999-12-31T23:59:59.999Z')),
      ).resolves.toEqual([]);
    });
  });

  describe('a filter whose reading throws', () => {
    const boom = new Error('boom');
    const throwing = <T extends object>(field: string): T =>
      Object.defineProperty({}, field, {
        enumerable: true,
        get() {
          throw boom;
        },
      }) as T;

    it.each(['tenantId', 'limit', 'workflowId', 'from', 'type', 'status'])(
      'names %s, with the thrown error as cause',
      async (field) => {
        await expectRejectedWithoutSql(() => store.query(throwing(field)), field);
        const error = await store.query(throwing(field)).catch((caught: unknown) => caught);
        expect((error as EventValidationError).cause).toBe(boom);
      },
    );

    it('names a date that is a Proxy of a Date', async () => {
      await expectRejectedWithoutSql(() => store.query({ from: new Proxy(new Date(), {}) }), 'from');
    });

    it('names a stream option', async () => {
      await expectRejectedWithoutSql(async () => store.stream(throwing('batchSize')), 'batchSize');
    });
  });
});
