/**
 * Starts the app's embedded PostgreSQL in a supervisor process of its own (see
 * embedded-postgres.supervisor.ts for why) and hands back its URL and a `stop()`.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SupervisorMessage, SupervisorOptions } from './embedded-postgres.protocol.js';

export interface EmbeddedPostgresLaunchOptions {
  /** Absolute path of the data directory, kept between runs. */
  dataDir: string;
  /** 0 picks a free port at every start. */
  port: number;
  database: string;
  /**
   * Node options of the supervisor process. @default none; from TypeScript sources, this process's
   * own (its TypeScript loader)
   */
  execArgv?: string[];
  /** @default 120000 (the first start also creates the cluster) */
  startTimeoutMs?: number;
  /** How long `stop()` waits for a clean shutdown before it kills the server. @default 10000 */
  stopTimeoutMs?: number;
}

export interface EmbeddedPostgres {
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** Where PostgreSQL's own log output goes. */
  readonly logFile: string;
  /** True when this start created the cluster. */
  readonly initialised: boolean;
  /**
   * Stops the server and waits for it, at most `stopTimeoutMs`: a server that does not shut down by
   * then (frozen, stuck) is killed, with its supervisor, and recovers on its next start. Resolves
   * true when it stopped cleanly. Safe to call twice.
   */
  stop(): Promise<boolean>;
}

// Running from TypeScript sources (tests), the supervisor is the `.ts` sibling, loaded the way this one was.
const FROM_SOURCES = import.meta.url.endsWith('.ts');
const SUPERVISOR = fileURLToPath(
  new URL(`./embedded-postgres.supervisor${FROM_SOURCES ? '.ts' : '.js'}`, import.meta.url),
);

export async function launchEmbeddedPostgres(options: EmbeddedPostgresLaunchOptions): Promise<EmbeddedPostgres> {
  const logFile = join(dirname(options.dataDir), `${basename(options.dataDir)}.log`);
  mkdirSync(dirname(options.dataDir), { recursive: true });
  const supervisorOptions: SupervisorOptions = {
    dataDir: options.dataDir,
    port: options.port,
    database: options.database,
    logFile,
  };
  const child = fork(SUPERVISOR, [JSON.stringify(supervisorOptions)], {
    // Its own process group: a Ctrl-C in the terminal must not stop the database under the app.
    detached: true,
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    execArgv: options.execArgv ?? (FROM_SOURCES ? process.execArgv : []),
  });

  const ready = await firstMessage(child, options.startTimeoutMs ?? 120_000).catch((error: unknown) => {
    child.kill('SIGTERM');
    throw error;
  });
  if (ready.type === 'failed') throw new Error(ready.message);

  // The supervisor must not keep this process alive on its own; `stop()` takes the reference back.
  child.unref();
  child.channel?.unref();
  let stopped: Promise<boolean> | undefined;
  return {
    url: ready.url,
    port: ready.port,
    dataDir: options.dataDir,
    logFile,
    initialised: ready.initialised,
    stop: () => (stopped ??= stopSupervisor(child, options.stopTimeoutMs ?? STOP_TIMEOUT_MS)),
  };
}

function firstMessage(child: ChildProcess, timeoutMs: number): Promise<SupervisorMessage> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`Embedded PostgreSQL did not start within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const settle = (): void => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const onMessage = (message: unknown): void => {
      settle();
      resolve(message as SupervisorMessage);
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      settle();
      reject(new Error(`Embedded PostgreSQL supervisor exited during start-up (${signal ?? `code ${code}`})`));
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

/** How long a clean stop may take by default; PostgreSQL's fast shutdown normally takes well under a second. */
const STOP_TIMEOUT_MS = 10_000;

async function stopSupervisor(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  child.ref();
  child.channel?.ref();
  const exited = once(child, 'exit');
  // Without the channel (it can close first when this process is exiting), a SIGTERM makes the
  // supervisor stop the server through the package's own exit hooks.
  if (child.connected) child.send('stop');
  else child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
  const clean = await Promise.race([exited.then(() => true), gaveUp]);
  clearTimeout(timer);
  if (!clean) {
    // The supervisor, the server and its processes (which PostgreSQL puts in sessions of their own),
    // all of them, even stopped ones. PostgreSQL recovers from its log on the next start.
    const processes = [child.pid!, ...descendantsOf(child.pid!)];
    for (const pid of processes) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await exited;
    // Gone before this resolves, so a new start does not meet the old server's shared memory.
    for (let waited = 0; processes.some(isRunning) && waited < KILLED_GONE_TIMEOUT_MS; waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return clean;
}

/** How long the killed processes may take to disappear. */
const KILLED_GONE_TIMEOUT_MS = 5000;

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Every process below `root`, from `ps` (Linux and macOS alike). */
function descendantsOf(root: number): number[] {
  let table: string;
  try {
    table = execFileSync('ps', ['-A', '-o', 'pid=,ppid='], { encoding: 'utf8' });
  } catch {
    return [];
  }
  const children = new Map<number, number[]>();
  for (const line of table.split('\n')) {
    const [pid, ppid] = line.trim().split(/\s+/).map(Number);
    if (!pid || ppid === undefined) continue;
    children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  }
  const found: number[] = [];
  const visit = (pid: number): void => {
    for (const child of children.get(pid) ?? []) {
      found.push(child);
      visit(child);
    }
  };
  visit(root);
  return found;
}
