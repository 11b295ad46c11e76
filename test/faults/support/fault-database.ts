/** The scenario's database on its own cluster, built by the project's migrations (never `synchronize`). */
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { eventBusDataSource } from '../../support/database.js';
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
  const dataSource = eventBusDataSource(url, 4);
  await dataSource.initialize();
  registry.add('test DataSource', async () => {
    if (dataSource.isInitialized) await dataSource.destroy();
  });
  await dataSource.runMigrations({ transaction: 'all' });
  return { url, dataSource };
}
