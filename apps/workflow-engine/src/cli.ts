/**
 * The event bus's operator commands for the sample app: `npm run cli -- <command>` (`--help` lists
 * them). Boots the app's own AppModule without its HTTP server and without consuming the event
 * queue, so a replay reaches the app's real handlers while the running app keeps its deliveries.
 *
 *   npm run cli -- failed
 *   npm run cli -- replay --from 2026-01-01 --handler WorkflowRunProjection.apply
 */
import { existsSync } from 'node:fs';
import { runEventBusCli } from '@app/event-bus/cli';
import { AppModule } from './app.module.js';
import { loadConfig } from './infrastructure/config/app-config.js';

async function main(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const config = loadConfig();
  if (!config.databaseUrl) {
    // The embedded PostgreSQL belongs to the running app (one server per data directory).
    process.stderr.write(
      "error: the CLI needs DATABASE_URL, the database of the app (`npm start` prints the embedded one's URL)\n",
    );
    process.exit(2);
  }
  await runEventBusCli(AppModule.forRoot({ ...config, databaseUrl: config.databaseUrl }));
}

void main();
