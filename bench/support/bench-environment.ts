/**
 * The services of one benchmark run: a fresh PostgreSQL database built by the migrations, a
 * BullMQ key prefix of its own on Redis, and the cleanups that remove both. Everything a
 * benchmark opens registers its cleanup here, so a failed run leaves nothing behind either.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { DataSource } from 'typeorm';
import type { DataSourceOptions } from 'typeorm';
import { eventBusMigrations } from '@app/event-bus/migrations';
import { POOL_SIZE } from './bench-config.js';
import type { BenchConfig } from './bench-config.js';
import { redisConnectionFromUrl, sweepRedisPrefix } from './bench-redis.js';
import type { BenchRedisConnection } from './bench-redis.js';

type Cleanup = () => Promise<void> | void;
type DataSourceExtras = Partial<Pick<DataSourceOptions, 'entities' | 'logger'>>;

export interface BenchEnvironment {
  readonly config: BenchConfig;
  readonly databaseName: string;
  /** URL of the run's own database. */
  readonly databaseUrl: string;
  /** For raw SQL (no entities): filling tables, counting statuses, the baselines. */
  readonly dataSource: DataSource;
  readonly redis: BenchRedisConnection;
  /** BullMQ key prefix of this run; every queue of the run lives under it. */
  readonly prefix: string;
  /**
   * Another pool (closed at cleanup) on the run's database, or on the database at `url`: a
   * contender's own, with its entities and a logger that records its SQL.
   */
  openDataSource(options?: DataSourceExtras & { url?: string }): Promise<DataSource>;
  /**
   * A further database of the run, built by the migrations and dropped at cleanup, with a pool
   * for the harness. A contender that is not the library gets one, so the library's relay and
   * lost-job recovery (which look for un-enqueued and unfinished rows in `event_store`) never
   * take up its rows.
   */
  createDatabase(label: string): Promise<{ url: string; dataSource: DataSource }>;
  /** Runs `cleanup` at the end of the run, last registered first, also when the run fails. */
  onCleanup(cleanup: Cleanup): void;
  /** Runs every cleanup, drops the database and sweeps the prefix. Safe to call twice. */
  cleanup(): Promise<void>;
}

export async function createBenchEnvironment(config: BenchConfig, benchmark: string): Promise<BenchEnvironment> {
  const suffix = randomBytes(4).toString('hex');
  const databaseName = `event_bus_bench_${suffix}`;
  const databaseUrl = withDatabase(config.databaseUrl, databaseName);
  const prefix = `bench-${benchmark}-${suffix}`;
  const redis = redisConnectionFromUrl(config.redisUrl);
  const cleanups: Cleanup[] = [];

  // Registered before anything is created, so even a failed migration drops the database.
  cleanups.push(() => sweepRedisPrefix(redis, prefix));
  cleanups.push(() => adminQuery(config.databaseUrl, `DROP DATABASE IF EXISTS "${databaseName}" WITH (FORCE)`));

  let cleaning: Promise<void> | undefined;
  const cleanup = (): Promise<void> =>
    (cleaning ??= (async () => {
      const errors: unknown[] = [];
      for (const step of cleanups.splice(0).reverse()) {
        try {
          await step();
        } catch (error) {
          errors.push(error);
        }
      }
      if (errors.length > 0) throw new AggregateError(errors, 'Benchmark cleanup failed');
    })());

  const connect = async (url: string, options: DataSourceExtras = {}): Promise<DataSource> => {
    const dataSource = new DataSource({
      type: 'postgres',
      url,
      entities: options.entities ?? [],
      logger: options.logger,
      migrations: eventBusMigrations,
      synchronize: false,
      installExtensions: false,
      poolSize: POOL_SIZE,
      // Connections stay open for the whole run: a benchmark must not pay for reconnecting.
      extra: { idleTimeoutMillis: 0 },
    });
    cleanups.push(async () => {
      if (dataSource.isInitialized) await dataSource.destroy();
    });
    await dataSource.initialize();
    return dataSource;
  };
  const openDataSource = ({ url, ...options }: DataSourceExtras & { url?: string } = {}): Promise<DataSource> =>
    connect(url ?? databaseUrl, options);
  const createDatabase = async (label: string): Promise<{ url: string; dataSource: DataSource }> => {
    const name = `${databaseName}_${label}`;
    cleanups.push(() => adminQuery(config.databaseUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    await adminQuery(config.databaseUrl, `CREATE DATABASE "${name}"`);
    const url = withDatabase(config.databaseUrl, name);
    const dataSource = await connect(url);
    await dataSource.runMigrations({ transaction: 'all' });
    return { url, dataSource };
  };

  try {
    await adminQuery(config.databaseUrl, `CREATE DATABASE "${databaseName}"`);
    const dataSource = await openDataSource();
    await dataSource.runMigrations({ transaction: 'all' });
    await assertRedisAnswers(redis);
    return {
      config,
      databaseName,
      databaseUrl,
      dataSource,
      redis,
      prefix,
      openDataSource,
      createDatabase,
      onCleanup: (step) => cleanups.push(step),
      cleanup,
    };
  } catch (error) {
    await cleanup().catch(() => undefined);
    throw error;
  }
}

function withDatabase(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** CREATE/DROP DATABASE cannot run in a transaction or through a pool: one short client each. */
async function adminQuery(serverUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Fails the run at once, with the URL, when Redis is not there (BullMQ would retry forever). */
async function assertRedisAnswers(connection: BenchRedisConnection): Promise<void> {
  const client = new Redis({ ...connection, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined); // reported by the awaited commands below
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    throw new Error(`Redis at ${connection.host}:${connection.port} does not answer (set REDIS_URL)`, { cause: error });
  } finally {
    client.disconnect();
  }
}
