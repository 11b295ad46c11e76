/** The scenario's database on its own cluster, built by the project's migrations (never `synchronize`). */
import pg from 'pg';
import { DataSource } from 'typeorm';
import { eventBusEntities } from '../../../libs/event-bus/src/store/typeorm/event-store.entity.js';
import { eventBusMigrations } from '@app/event-bus/migrations';
import type { CleanupRegistry } from './cleanup-registry.js';
import type { PostgresCluster } from './postgres-cluster.js';

const DATABASE = 'faults';

/** Creates and migrates the database; resolves to the test's own DataSource on it (destroyed at cleanup). */
export async function createFaultDatabase(
  cluster: PostgresCluster,
  registry: CleanupRegistry,
): Promise<{ url: string; dataSource: DataSource }> {
  const admin = new pg.Client({ connectionString: cluster.url('postgres') });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await admin.end();
  }
  const url = cluster.url(DATABASE);
  const dataSource = new DataSource({
    type: 'postgres',
    url,
    entities: eventBusEntities,
    migrations: eventBusMigrations,
    synchronize: false,
    migrationsRun: false,
    installExtensions: false,
    poolSize: 4,
  });
  await dataSource.initialize();
  registry.add('test DataSource', async () => {
    if (dataSource.isInitialized) await dataSource.destroy();
  });
  await dataSource.runMigrations({ transaction: 'all' });
  return { url, dataSource };
}
