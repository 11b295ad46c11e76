/**
 * The app's own DataSource, as a user writes it for the TypeORM CLI: the library's migrations
 * first, then the app's (none here). `typeorm migration:run -d dist/data-source.js` applies them.
 */
import { DataSource } from 'typeorm';
import { eventBusMigrations } from 'nestjs-durable-events/migrations';

export default new DataSource({
  type: 'postgres',
  url: process.env.DATABASE_URL,
  migrations: [...eventBusMigrations],
  installExtensions: false,
});
