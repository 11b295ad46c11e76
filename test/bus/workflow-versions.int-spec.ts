import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import {
  EventConcurrencyError,
  EventStoreRepository,
  PersistentEventStore,
  type NewDomainEvent,
  type StoredEvent,
} from '@app/event-bus';
import { createTestBus, type TestBus } from '../support/bus.js';
import { createTestDatabase, eventBusDataSource, waitFor, type TestDatabase } from '../support/database.js';
import { allProcessed, newEvent, TENANT } from './bus-fixtures.js';

/**
 * Writers racing on one workflow on real PostgreSQL: each writer is a bus of its own on a DataSource
 * (a connection pool) of its own, as separate processes would be, so their INSERTs really race and
 * the unique index on (tenant, workflow, version) decides. One of them is also the worker, so the
 * test sees that a loser's event is never delivered.
 */
const WRITERS = 8;
const ROUNDS = 5;

type Outcome = { stored: StoredEvent[] } | { error: unknown };

describe('workflow versions: writers racing on one workflow (PostgreSQL, Redis)', () => {
  let db: TestDatabase;
  const sources: DataSource[] = [];
  const writers: TestBus[] = [];
  const delivered = new Set<string>();

  beforeAll(async () => {
    db = await createTestDatabase('bus-workflow-versions');
    for (let index = 0; index < WRITERS; index++) {
      const source = eventBusDataSource(db.url, 2);
      sources.push(source);
      await source.initialize();
      const first = writers[0];
      const writer = await createTestBus({
        db,
        backend: 'redis',
        suite: 'bus-workflow-versions',
        eventStore: new PersistentEventStore(new EventStoreRepository(source)),
        worker: index === 0,
        initialize: false,
        ...(first ? { sameQueueAs: first } : {}),
      });
      if (index === 0) await writer.bus.subscribe('**', (event) => void delivered.add(event.id), { name: 'recorder' });
      await writer.bus.initialize();
      writers.push(writer);
    }
  }, 60_000);

  afterAll(async () => {
    // The buses that share the first one's queue close first (it purges the queue).
    for (const writer of [...writers].reverse()) await writer.close().catch(() => undefined);
    for (const source of sources) if (source.isInitialized) await source.destroy();
    await db?.drop();
  });

  const inWorkflow = (workflowId: string): NewDomainEvent => newEvent({ metadata: { workflowId } });

  /** Every writer runs `write` at once (each on its own connection); the outcomes in writer order. */
  const race = (write: (writer: TestBus, index: number) => Promise<StoredEvent[]>): Promise<Outcome[]> =>
    Promise.all(
      writers.map((writer, index) =>
        write(writer, index).then(
          (stored) => ({ stored }),
          (error: unknown) => ({ error }),
        ),
      ),
    );

  const versions = async (workflowId: string): Promise<number[]> =>
    (await writers[0].bus.getEventsByWorkflowId(workflowId, { tenantId: TENANT })).map((event) => event.version!);
  const oneTo = (count: number): number[] => Array.from({ length: count }, (_, index) => index + 1);

  /** Exactly one writer won from `expectedVersion`; every other one got the winner's version. */
  function expectOneWinner(outcomes: Outcome[], expectedVersion: number, size: number): StoredEvent[] {
    const winners = outcomes.filter((outcome): outcome is { stored: StoredEvent[] } => 'stored' in outcome);
    expect(winners).toHaveLength(1);
    for (const outcome of outcomes) {
      if ('stored' in outcome) continue;
      expect(outcome.error).toBeInstanceOf(EventConcurrencyError);
      expect(outcome.error).toMatchObject({ expectedVersion, actualVersion: expectedVersion + size });
    }
    expect(winners[0].stored.map((event) => event.version)).toEqual(
      oneTo(size).map((offset) => expectedVersion + offset),
    );
    return winners[0].stored;
  }

  /** Every stored event of the workflow is delivered, and nothing else of it was stored. */
  async function expectDeliveredExactly(workflowId: string, stored: StoredEvent[]): Promise<void> {
    const ids = stored.map((event) => event.id);
    await waitFor(async () => (await allProcessed(db, ids)) && ids.every((id) => delivered.has(id)), {
      message: `the ${ids.length} winning events of ${workflowId} delivered`,
    });
    const rows = await writers[0].bus.getEventsByWorkflowId(workflowId);
    expect(rows.map((event) => event.id).sort()).toEqual([...ids].sort());
  }

  it('with expectedVersion exactly one of the writers wins each round; the others get EventConcurrencyError', async () => {
    const workflowId = `wf-${randomUUID()}`;
    const won: StoredEvent[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const expectedVersion = await writers[round % WRITERS].bus.getWorkflowVersion(workflowId);
      expect(expectedVersion).toBe(round);
      const outcomes = await race((writer) =>
        writer.bus.publish(inWorkflow(workflowId), { expectedVersion }).then((event) => [event]),
      );
      won.push(...expectOneWinner(outcomes, expectedVersion, 1));
    }
    expect(await versions(workflowId)).toEqual(oneTo(ROUNDS));
    await expectDeliveredExactly(workflowId, won);
  });

  it('with publishAll batches and expectedVersion, one batch wins each round, whole', async () => {
    const workflowId = `wf-${randomUUID()}`;
    const won: StoredEvent[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const expectedVersion = round * 3;
      const outcomes = await race((writer) =>
        writer.bus.publishAll([inWorkflow(workflowId), inWorkflow(workflowId), inWorkflow(workflowId)], {
          expectedVersion,
        }),
      );
      won.push(...expectOneWinner(outcomes, expectedVersion, 3));
    }
    expect(await versions(workflowId)).toEqual(oneTo(ROUNDS * 3));
    await expectDeliveredExactly(workflowId, won);
  });

  it('without expectedVersion every writer succeeds, with gapless versions (single events and batches)', async () => {
    const workflowId = `wf-${randomUUID()}`;
    const stored: StoredEvent[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const outcomes = await race((writer, index) =>
        index % 2 === 0
          ? writer.bus.publish(inWorkflow(workflowId)).then((event) => [event])
          : writer.bus.publishAll([inWorkflow(workflowId), inWorkflow(workflowId)]),
      );
      for (const outcome of outcomes) {
        expect(outcome).toHaveProperty('stored');
        stored.push(...(outcome as { stored: StoredEvent[] }).stored);
      }
    }
    const count = ROUNDS * (WRITERS / 2) * 3;
    expect(await versions(workflowId)).toEqual(oneTo(count));
    expect(stored.map((event) => event.version).sort((a, b) => a! - b!)).toEqual(oneTo(count));
    await expectDeliveredExactly(workflowId, stored);
  });

  it("inside the writers' own transactions: with expectedVersion one wins, without it all succeed", async () => {
    const checked = `wf-${randomUUID()}`;
    const free = `wf-${randomUUID()}`;
    const won: StoredEvent[] = [];
    const all: StoredEvent[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const outcomes = await race((writer, index) =>
        sources[index].transaction(async (manager) => {
          // The caller's own write first, then the publish in the same transaction.
          await manager.query('SELECT pg_current_xact_id()');
          const [open] = await writer.bus.publishAll([inWorkflow(free)], { manager });
          all.push(open);
          return [await writer.bus.publish(inWorkflow(checked), { manager, expectedVersion: round })];
        }),
      );
      won.push(...expectOneWinner(outcomes, round, 1));
    }
    expect(await versions(checked)).toEqual(oneTo(ROUNDS));
    await expectDeliveredExactly(checked, won);
    // Every writer's free append succeeded in its transaction (a lost race retried in a savepoint);
    // a loser's transaction then rolled back as a whole, its free event with it: no gap is left.
    expect(all.length).toBe(ROUNDS * WRITERS);
    expect(await versions(free)).toEqual(oneTo(ROUNDS));

    // Transactions that all commit: every append succeeds, the stream gapless.
    const committed: StoredEvent[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const outcomes = await race((writer, index) =>
        sources[index].transaction(async (manager) => {
          const first = await writer.bus.publish(inWorkflow(free), { manager });
          const batch = await writer.bus.publishAll([inWorkflow(free), inWorkflow(free)], { manager });
          return [first, ...batch];
        }),
      );
      for (const outcome of outcomes) {
        expect(outcome).toHaveProperty('stored');
        committed.push(...(outcome as { stored: StoredEvent[] }).stored);
      }
    }
    expect(await versions(free)).toEqual(oneTo(ROUNDS + ROUNDS * WRITERS * 3));
    await expectDeliveredExactly(free, [
      ...committed,
      ...(await writers[0].bus.getEventsByWorkflowId(free)).slice(0, ROUNDS),
    ]);
  });
});
