/**
 * Start-up check that the bus's tables exist. Without it an unmigrated database starts as if healthy
 * and every publish fails with a raw SQL error; one cheap query (`to_regclass`, no table scan) turns
 * that into a start-up error that says what to run.
 */
import type { DataSource } from 'typeorm';
import { EventBusConfigurationError } from '../../shared/errors.js';
import { FIND_TABLES_SQL, REQUIRED_TABLES } from './schema/required-tables.sql.js';

/**
 * Rejects with `EventBusConfigurationError` naming every missing table and how to create them. Tables
 * are looked up in the DataSource's `schema` when one is configured (where TypeORM looks for them
 * too), otherwise along the connection's `search_path`.
 */
export async function assertSchemaMigrated(dataSource: DataSource): Promise<void> {
  const schema = (dataSource.options as { schema?: string }).schema;
  const names = REQUIRED_TABLES.map((table) => (schema ? `${quoteIdent(schema)}.${quoteIdent(table)}` : table));
  const rows: Array<{ name: string; found: string | null }> = await dataSource.query(FIND_TABLES_SQL, [names]);
  const missing = REQUIRED_TABLES.filter((_, index) => rows.find((row) => row.name === names[index])?.found == null);
  if (missing.length === 0) return;
  const tables = missing.map((table) => `"${table}"`).join(' and ');
  const where = schema ? ` in schema "${schema}"` : '';
  throw new EventBusConfigurationError(
    'dataSource',
    `its database has no table ${tables}${where}: the event bus migrations have not run. Add ` +
      "`eventBusMigrations` (from 'nestjs-durable-events/migrations') to your DataSource's `migrations` " +
      'and run them before starting (`typeorm migration:run`, `migrationsRun: true`, or ' +
      '`dataSource.runMigrations()`); in the sample app, `npm run migration:run`.',
  );
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
