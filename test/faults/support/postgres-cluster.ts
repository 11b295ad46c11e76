/**
 * A PostgreSQL cluster of the scenario's own (initdb in a temp dir, a spare port), so it can be
 * crashed (`pg_ctl stop -m immediate`), restarted on the same port, and frozen (SIGSTOP on the
 * postmaster and every backend: connections stay open, nothing answers) then thawed.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { chownSync, closeSync, mkdtempSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from '../../support/redis-server.js';
import { waitFor } from '../../support/wait-for.js';
import type { CleanupRegistry } from './cleanup-registry.js';
import { findPostgresBinaries, type PostgresBinaries } from './postgres-binaries.js';
import { childPids, signalAll } from './process-tree.js';

export interface PostgresCluster {
  readonly port: number;
  /** Where PostgreSQL's own log goes. */
  readonly logFile: string;
  url(database: string): string;
  /** Immediate shutdown (no checkpoint: the next start runs crash recovery), as a crash would. */
  stopImmediate(): Promise<void>;
  /** Starts the server again on the same port and waits until it accepts connections. */
  start(): Promise<void>;
  /** SIGSTOPs the postmaster, then every backend; resolves to how many processes were frozen. */
  freeze(): number;
  thaw(): void;
}

const READY_TIMEOUT_MS = 30_000;

export async function startPostgresCluster(registry: CleanupRegistry): Promise<PostgresCluster> {
  const binaries = findPostgresBinaries();
  const root = mkdtempSync(join(tmpdir(), 'fault-pg-'));
  registry.addDir('postgres data directory', root);
  if (binaries.user) chownSync(root, binaries.user.uid, binaries.user.gid);
  const dataDir = join(root, 'data');
  const logFile = join(root, 'postgres.log');
  const port = await freePort();
  await run(binaries, 'initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '-N']);

  let server: ChildProcess | undefined;
  let frozen: number[] = [];

  const start = async (): Promise<void> => {
    if (server) return;
    const log = openSync(logFile, 'a');
    const settings = {
      listen_addresses: '127.0.0.1',
      unix_socket_directories: '',
      // The faults are process crashes, not power losses: the OS keeps what was written.
      fsync: 'off',
      max_connections: '200',
    };
    const started = spawn(
      join(binaries.dir, 'postgres'),
      ['-D', dataDir, '-p', String(port), ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])],
      { ...asUser(binaries), stdio: ['ignore', log, log] },
    );
    closeSync(log);
    server = started;
    // SIGQUIT: immediate shutdown of the postmaster and its backends, should the test process die first.
    registry.watchServer(started.pid, 'SIGQUIT');
    started.once('exit', () => {
      registry.forgetServer(started.pid);
      if (server === started) server = undefined;
    });
    await waitFor(() => server === started && accepts(port), {
      timeoutMs: READY_TIMEOUT_MS,
      intervalMs: 100,
      message: `PostgreSQL on port ${port} to accept connections (log: ${logFile})`,
    });
  };

  const stopImmediate = async (): Promise<void> => {
    const running = server;
    if (!running) return;
    thaw();
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    await run(binaries, 'pg_ctl', ['stop', '-D', dataDir, '-m', 'immediate', '-w', '-t', '30']).catch(() => {
      signalAll([running.pid!, ...childPids(running.pid!)], 'SIGKILL');
    });
    await exited;
  };

  const freeze = (): number => {
    const postmaster = server?.pid;
    if (postmaster === undefined) throw new Error('PostgreSQL is not running: nothing to freeze');
    // The postmaster first, so it forks no backend that would escape the freeze.
    signalAll([postmaster], 'SIGSTOP');
    frozen = [postmaster, ...childPids(postmaster)];
    signalAll(frozen.slice(1), 'SIGSTOP');
    return frozen.length;
  };

  const thaw = (): void => {
    signalAll(frozen, 'SIGCONT');
    frozen = [];
  };

  registry.add('postgres server', stopImmediate);
  await start();
  return {
    port,
    logFile,
    url: (database) => `postgres://postgres@127.0.0.1:${port}/${database}`,
    stopImmediate,
    start,
    freeze,
    thaw,
  };
}

function asUser(binaries: PostgresBinaries): SpawnOptions {
  return binaries.user ? { uid: binaries.user.uid, gid: binaries.user.gid } : {};
}

/** Runs a PostgreSQL tool to completion; rejects with its output when it fails. */
function run(binaries: PostgresBinaries, tool: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(binaries.dir, tool), args, { ...asUser(binaries), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${tool} ${args.join(' ')} failed (${code}):\n${output}`)),
    );
  });
}

async function accepts(port: number): Promise<boolean> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } finally {
    await client.end().catch(() => undefined);
  }
}
