/**
 * A Redis server of the test's own, as a child process, to stop and start at will (outage tests).
 * Started without persistence (`--save '' --appendonly no`): a restart comes back empty, as a Redis
 * without persistence does in production. `persistentRedisArgs(dir)` turns on an append-only file
 * synced at every write, so a SIGKILL loses nothing acknowledged.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, Socket } from 'node:net';

export interface OwnRedisServer {
  readonly port: number;
  readonly url: string;
  /** Whether the process is running. */
  readonly running: boolean;
  /** Process id of the running server (undefined while stopped). */
  readonly pid: number | undefined;
  /** Kills the server (its data is lost) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port and waits until it answers PING. */
  start(): Promise<void>;
}

/** Why `redis-server` cannot be started here, or undefined when it can. */
export function redisServerUnavailable(): string | undefined {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.error) return `redis-server is not installed (${probe.error.message})`;
  return probe.status === 0 ? undefined : `redis-server --version failed: ${probe.stderr}`;
}

export interface OwnRedisServerOptions {
  /** Start it now. `false` reserves a port nothing listens on yet (a Redis that appears later). @default true */
  start?: boolean;
}

/** Arguments that give the server an append-only file in `dir`, fsynced at every write (they override the defaults). */
export function persistentRedisArgs(dir: string): string[] {
  return ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir];
}

export async function startOwnRedisServer(
  extraArgs: string[] = [],
  { start: startNow = true }: OwnRedisServerOptions = {},
): Promise<OwnRedisServer> {
  const port = await freePort();
  let child: ChildProcess | undefined;

  const start = async (): Promise<void> => {
    if (child) return;
    const started = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extraArgs],
      { stdio: 'ignore' },
    );
    child = started;
    started.once('exit', () => {
      if (child === started) child = undefined;
    });
    await waitForPong(port, 10_000);
  };

  const stop = async (): Promise<void> => {
    const running = child;
    if (!running) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill('SIGKILL');
    await exited;
    child = undefined;
  };

  if (startNow) await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get running() {
      return child !== undefined;
    },
    get pid() {
      return child?.pid;
    },
    stop,
    start,
  };
}

/** A TCP port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('could not find a free port');
  return address.port;
}

async function waitForPong(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await ping(port)) return;
    if (Date.now() > deadline)
      throw new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (answer: boolean): void => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
    socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
  });
}
