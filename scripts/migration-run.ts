/**
 * `npm run migration:run`: applies the library's migrations to `DATABASE_URL` (read from the
 * environment or `.env`, as the app does; default: the database `docker-compose.yml` creates) and
 * says what ran.
 */
import { existsSync } from 'node:fs';
import { DataSource } from 'typeorm';
import { eventBusMigrations } from '@app/event-bus/migrations';

/** The database of `docker-compose.yml` and `.env.example`. */
const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/workflow_engine';

/** The URL without its password, for logs. */
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable DATABASE_URL)';
  }
}

async function main(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const url = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
  // No entities: migrations carry their own SQL. TypeORM keeps its record in the `migrations` table.
  const dataSource = new DataSource({
    type: 'postgres',
    url,
    migrations: eventBusMigrations,
    installExtensions: false,
  });
  console.log(`Applying migrations to ${redact(url)}`);
  await dataSource.initialize();
  try {
    // One transaction: either every pending migration is applied, or none.
    const applied = await dataSource.runMigrations({ transaction: 'all' });
    if (applied.length === 0) console.log('Nothing to do: every migration is already applied.');
    for (const migration of applied) console.log(`Applied ${migration.name}`);
  } finally {
    await dataSource.destroy();
  }
}

main().catch((error: unknown) => {
  console.error('Migration failed:', error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
