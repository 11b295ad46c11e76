/**
 * Starts the sample workflow engine: `npm start`. With no DATABASE_URL it first starts an embedded
 * PostgreSQL (data kept in .data/postgres); with no REDIS_URL the event queue runs on BullMQ's
 * PostgreSQL backend. Ctrl-C closes the app cleanly, then stops the embedded database.
 */
import { existsSync } from 'node:fs';
import { Logger, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import { loadConfig, type ResolvedAppConfig } from './infrastructure/config/app-config.js';
import { describeMode } from './infrastructure/config/describe-mode.js';
import { launchEmbeddedPostgres, type EmbeddedPostgres } from './infrastructure/database/embedded-postgres.launcher.js';
import { startConsoleTracing } from './infrastructure/tracing/console-tracing.js';

const logger = new Logger('WorkflowEngine');

async function bootstrap(): Promise<void> {
  // A `.env` file (see .env.example; git-ignored) fills in what the environment does not set.
  if (existsSync('.env')) process.loadEnvFile('.env');
  const config = loadConfig();
  // Before anything publishes: the bus's spans go to the SDK registered here (OTEL_TRACES_CONSOLE=1).
  if (startConsoleTracing()) logger.log('OTEL_TRACES_CONSOLE=1: spans are printed to the console');
  let embedded: EmbeddedPostgres | undefined;
  if (!config.databaseUrl) {
    logger.log(`DATABASE_URL is unset: starting the embedded PostgreSQL (data in ${config.embedded.dataDir})`);
    embedded = await launchEmbeddedPostgres(config.embedded);
  }
  const resolved: ResolvedAppConfig = { ...config, databaseUrl: config.databaseUrl ?? embedded!.url };

  try {
    const app = await NestFactory.create(AppModule.forRoot(resolved));
    // SIGINT/SIGTERM close the app: event workers drain their running handlers, then TypeORM disconnects.
    closeOnSignal(app, embedded);
    await app.listen(config.port);
    logger.log(describeMode(resolved, embedded));
    const base = `http://localhost:${config.port}`;
    logger.log(`Ready on ${base}: events page ${base}/, queue dashboard ${base}/queues, health ${base}/health`);
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
}

/**
 * Shutdown signals close the app here rather than through `enableShutdownHooks()`: `app.close()`
 * runs the same lifecycle hooks, and the embedded database must outlive every connection the app
 * holds, so it stops only after that. (Nest's own listener re-raises the signal once it has closed
 * the app, which this listener would take for a second Ctrl-C.) A second signal gives up waiting,
 * e.g. for a queue backend that no longer answers.
 */
function closeOnSignal(app: INestApplication, embedded: EmbeddedPostgres | undefined): void {
  let closing = false;
  const finish = async (exitCode: number): Promise<never> => {
    if (embedded) {
      if (await embedded.stop()) logger.log('Embedded PostgreSQL stopped');
      else logger.warn('Embedded PostgreSQL did not stop in time and was killed; it recovers on its next start');
    }
    process.exit(exitCode);
  };
  const close = (signal: NodeJS.Signals): void => {
    if (closing) {
      logger.warn(`${signal} again: exiting without waiting for the app to close`);
      void finish(1);
      return;
    }
    closing = true;
    logger.log(`${signal}: closing the app (running handlers finish first; press Ctrl-C again to force)`);
    app.close().then(
      () => finish(0),
      (error: unknown) => {
        logger.error(`Shutdown failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        return finish(1);
      },
    );
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, close);
}

bootstrap().catch((error: unknown) => {
  logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
