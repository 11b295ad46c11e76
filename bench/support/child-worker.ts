/**
 * Worker processes of a benchmark: child Node processes running the compiled library, spoken to
 * over IPC (ready, CPU used so far, stop). A child that loses its parent exits by itself, and
 * the run's cleanup kills any child still alive, so none outlives the benchmark.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { BenchEnvironment } from './bench-environment.js';
import type { BenchRedisConnection } from './bench-redis.js';

/** What a worker child is given (as JSON in `BENCH_CHILD_CONFIG`). */
export interface ChildWorkerConfig {
  name: string;
  databaseUrl: string;
  redis: BenchRedisConnection;
  prefix: string;
  queueName: string;
}

export type ParentMessage = { type: 'cpu' } | { type: 'handled' } | { type: 'stop' };
export type ChildMessage =
  | { type: 'ready' }
  | { type: 'cpu'; seconds: number }
  | { type: 'handled'; count: number }
  | { type: 'error'; message: string };

export class ChildWorker {
  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {}

  /** Starts `script` (a compiled file of bench/) and resolves once its bus is consuming. */
  static async start(env: BenchEnvironment, script: URL, config: ChildWorkerConfig): Promise<ChildWorker> {
    const child = fork(script, [], {
      env: { ...process.env, BENCH_CHILD_CONFIG: JSON.stringify(config) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const worker = new ChildWorker(config.name, child);
    env.onCleanup(() => worker.kill());
    await worker.next('ready', 60_000);
    return worker;
  }

  /** CPU seconds (user + system) the child has used since it started. */
  async cpuSeconds(): Promise<number> {
    this.send({ type: 'cpu' });
    const message = await this.next('cpu', 10_000);
    return message.type === 'cpu' ? message.seconds : Number.NaN;
  }

  /** Handler calls the child has made since it started. */
  async handled(): Promise<number> {
    this.send({ type: 'handled' });
    const message = await this.next('handled', 10_000);
    return message.type === 'handled' ? message.count : Number.NaN;
  }

  /** Asks the child to close its bus (running handlers finish) and waits for it to exit. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    this.send({ type: 'stop' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    try {
      await exited;
    } finally {
      clearTimeout(timer);
    }
  }

  private async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.kill('SIGKILL');
    await exited;
  }

  private send(message: ParentMessage): void {
    this.child.send(message);
  }

  /** The next message of `type`; rejects on an error message, an early exit or the deadline. */
  private next(type: ChildMessage['type'], timeoutMs: number): Promise<ChildMessage> {
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.child.off('message', onMessage);
        this.child.off('exit', onExit);
      };
      const onMessage = (message: ChildMessage): void => {
        if (message.type === type) {
          done();
          resolve(message);
        } else if (message.type === 'error') {
          done();
          reject(new Error(`worker ${this.name}: ${message.message}`));
        }
      };
      const onExit = (code: number | null, signal: string | null): void => {
        done();
        reject(new Error(`worker ${this.name} exited (${signal ?? code}) while waiting for "${type}"`));
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`worker ${this.name} sent no "${type}" within ${timeoutMs} ms`));
      }, timeoutMs);
      this.child.on('message', onMessage);
      this.child.on('exit', onExit);
    });
  }
}
