/**
 * The process that owns the app's embedded PostgreSQL (forked by embedded-postgres.launcher.ts).
 *
 * It runs detached from the terminal's process group, so Ctrl-C reaches the app alone: the app
 * closes its connections first, then asks this process to stop the server. If the app dies without
 * asking (a crash, `kill -9`), the IPC channel closes and the server is stopped all the same.
 */
import { appendFileSync } from 'node:fs';
import type { EmbeddedPostgresServer } from './embedded-postgres.server.js';
import { startEmbeddedPostgres } from './embedded-postgres.server.js';
import type { SupervisorMessage, SupervisorOptions } from './embedded-postgres.protocol.js';

/** PostgreSQL's log is a convenience: losing it (its folder deleted under a running server) must not stop the server. */
function writeLog(file: string, line: string): void {
  try {
    appendFileSync(file, line.endsWith('\n') ? line : `${line}\n`);
  } catch {
    // Nothing to do: the server's health does not depend on its log file.
  }
}

/** Resolves once the message is handed to the channel, so exiting right after cannot drop it. */
function send(message: SupervisorMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send?.(message, () => resolve())) resolve();
  });
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as SupervisorOptions;
  const starting = startEmbeddedPostgres({
    dataDir: options.dataDir,
    port: options.port,
    database: options.database,
    persistent: true,
    onLog: (line) => writeLog(options.logFile, line),
  });
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      const server = await starting.catch(() => undefined);
      await server?.stop();
      process.exit(0);
    })());
  // Registered before the server is up, so a parent that goes away during start-up is noticed too.
  process.on('disconnect', () => void stop());
  process.on('message', (message: unknown) => {
    if (message === 'stop') void stop();
  });

  let server: EmbeddedPostgresServer;
  try {
    server = await starting;
  } catch (error) {
    await send({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
    process.exit(1);
  }
  await send({ type: 'ready', url: server.url, port: server.port, initialised: server.initialised });
}

void main();
