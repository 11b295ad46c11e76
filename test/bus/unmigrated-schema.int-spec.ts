import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import {
  BullMQEventBus,
  EventBusConfigurationError,
  EventStoreRepository,
  PersistentEventStore,
  eventBusEntities,
} from '@app/event-bus';
import { eventBusMigrations } from '@app/event-bus/migrations';
import { CapturingLogger } from '../support/bus.js';
import { createTestDatabase, testRedisConnection, uniquePrefix, type TestDatabase } from '../support/database.js';

/**
 * A database whose migrations never ran must stop start-up with an error that names the missing
 * table and says what to run, instead of a bus that starts as if healthy and answers every
 * publish with a raw SQL error.
 */
describe('initialize() on a database without the event bus schema', () => {
  let db: TestDatabase;
  const opened: DataSource[] = [];
  const buses: BullMQEventBus[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('unmigrated-schema', { migrate: false });
  });

  afterEach(async () => {
    for (const bus of buses.splice(0)) await bus.close();
    for (const source of opened.splice(0)) if (source.isInitialized) await source.destroy();
  });

  afterAll(async () => {
    await db?.drop();
  });

  function busOn(dataSource: DataSource): BullMQEventBus {
    const bus = new BullMQEventBus({
      eventStore: new PersistentEventStore(new EventStoreRepository(dataSource)),
      connection: testRedisConnection(),
      prefix: uniquePrefix('unmigrated-schema'),
      logger: new CapturingLogger('EventBus:unmigrated-schema'),
    });
    buses.push(bus);
    return bus;
  }

  it('fails with EventBusConfigurationError naming both tables and the migration command', async () => {
    const error = await busOn(db.dataSource)
      .initialize()
      .then(
        () => undefined,
        (failure: unknown) => failure,
      );

    expect(error).toBeInstanceOf(EventBusConfigurationError);
    const message = (error as Error).message;
    expect(message).toContain('"event_store"');
    expect(message).toContain('"event_handler_deliveries"');
    expect(message).toContain('npm run migration:run');
    expect(message).toContain('eventBusMigrations');
  });

  it("looks for the tables in the DataSource's schema when one is configured", async () => {
    // Migrated in the default schema (public), while the DataSource reads another one.
    await db.dataSource.runMigrations({ transaction: 'all' });
    await db.dataSource.query('CREATE SCHEMA IF NOT EXISTS events');
    const elsewhere = new DataSource({
      type: 'postgres',
      url: db.url,
      schema: 'events',
      entities: eventBusEntities,
      migrations: eventBusMigrations,
      installExtensions: false,
      poolSize: 2,
    });
    opened.push(elsewhere);
    await elsewhere.initialize();

    const error = await busOn(elsewhere)
      .initialize()
      .then(
        () => undefined,
        (failure: unknown) => failure,
      );
    expect(error).toBeInstanceOf(EventBusConfigurationError);
    expect((error as Error).message).toContain('in schema "events"');

    // And the same database, read where the tables are, starts.
    await expect(busOn(db.dataSource).initialize()).resolves.toBeUndefined();
  });
});
