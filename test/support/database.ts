/**
 * A PostgreSQL database of its own for one test file: created fresh on the server of
 * `DATABASE_URL`, built by the migrations (never `synchronize`), dropped at the end.
 *
 *   let db: TestDatabase;
 *   beforeAll(async () => { db = await createTestDatabase('store-queries'); });
 *   afterAll(() => db.drop());
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { eventBusEntities } from '../../libs/event-bus/src/store/typeorm/event-store.entity.js';
import { eventBusMigrations } from '@app/event-bus/migrations';
import { slug } from './redis.js';
import { waitFor } from './wait-for.js';

// Re-exported so a suite can take every helper from one place.
export { testRedisConnection, testRedisUrl, uniquePrefix } from './redis.js';
export type { TestRedisConnection } from './redis.js';
export { waitFor } from './wait-for.js';
export type { WaitForOptions } from './wait-for.js';

export interface TestDatabase {
  /** Initialized, with `eventBusEntities` and the migrations applied. */
  dataSource: DataSource;
  /** Connection URL of this database (for a second connection, a child process, BullMQ's PostgreSQL backend). */
  url: string;
  /** Database name. */
  name: string;
  /** Destroys the DataSource and drops the database (WITH (FORCE): other connections are ended). Safe to call twice. */
  drop(): Promise<void>;
}

export function testDatabaseUrl(): string {
  return process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
}

/** The URL of another database on the same server. */
export function databaseUrl(name: string): string {
  const url = new URL(testDatabaseUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

/** A DataSource on `url` with the library's entities and migrations; the schema only ever comes from them. */
export function eventBusDataSource(url: string, poolSize: number): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    entities: eventBusEntities,
    migrations: eventBusMigrations,
    synchronize: false,
    migrationsRun: false,
    installExtensions: false,
    poolSize,
  });
}

export interface TestDatabaseOptions {
  /** Run the migrations. `false` leaves the database empty (start-up checks of a missing schema). @default true */
  migrate?: boolean;
}

export async function createTestDatabase(
  suite: string,
  { migrate = true }: TestDatabaseOptions = {},
): Promise<TestDatabase> {
  // PostgreSQL identifiers are at most 63 bytes; the random suffix keeps parallel runs apart.
  const name = `eb_${slug(suite, 40)}_${randomBytes(5).toString('hex')}`;
  await adminQuery(`CREATE DATABASE "${name}"`);
  const url = databaseUrl(name);
  const dataSource = eventBusDataSource(url, 10);
  try {
    await dataSource.initialize();
    if (migrate) await dataSource.runMigrations({ transaction: 'all' });
  } catch (error) {
    if (dataSource.isInitialized) await dataSource.destroy();
    await adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    throw error;
  }

  let dropped: Promise<void> | undefined;
  const drop = (): Promise<void> =>
    (dropped ??= (async () => {
      if (dataSource.isInitialized) await dataSource.destroy();
      await adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    })());
  return { dataSource, url, name, drop };
}

/**
 * Waits until every event stored so far is visible to gap-safe (paging) readers — `query` with
 * `afterSequence`/`limit`, `stream`, replay. Those readers only see rows older than the oldest
 * running transaction on the whole server, so a transaction held open by another test file running
 * in parallel can briefly hide rows this file just committed. Call it after seeding, before paging.
 */
export async function waitForPagingReaders(dataSource: DataSource, timeoutMs = 10_000): Promise<void> {
  await waitFor(
    async () => {
      const [{ visible }] = await dataSource.query<{ visible: boolean }[]>(
        `SELECT coalesce(max(transaction_id) < pg_snapshot_xmin(pg_current_snapshot()), true) AS visible FROM event_store`,
      );
      return visible;
    },
    { timeoutMs, message: 'every stored event to be below the oldest running transaction (gap-safe visibility)' },
  );
}

/** CREATE/DROP DATABASE cannot run inside a transaction or a pool's session state: one short client each. */
async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: testDatabaseUrl() });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
