/**
 * The frame of every benchmark entry point: reads the size, builds the run's services, runs the
 * measurements, prints and saves the figures, and always cleans up — on success, on an error
 * (exit code 1) and on Ctrl-C or SIGTERM.
 */
import { inspect } from 'node:util';
import { Redis } from 'ioredis';
import { readBenchConfig } from './bench-config.js';
import type { BenchSize } from './bench-config.js';
import { createBenchEnvironment } from './bench-environment.js';
import type { BenchEnvironment } from './bench-environment.js';
import { BenchResults, localMachine } from './bench-results.js';
import type { MachineInfo } from './bench-results.js';

export interface BenchContext {
  readonly env: BenchEnvironment;
  readonly results: BenchResults;
  readonly size: BenchSize;
  /** A progress line on stderr, so stdout holds only the tables. */
  log(message: string): void;
}

export async function runBenchmark(name: string, body: (context: BenchContext) => Promise<void>): Promise<void> {
  const started = Date.now();
  const log = (message: string): void => {
    process.stderr.write(`[${name} ${((Date.now() - started) / 1000).toFixed(1)}s] ${message}\n`);
  };
  let env: BenchEnvironment | undefined;
  let exitCode = 0;

  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupted = true;
    log(`${signal}: cleaning up`);
    const done = (): never => process.exit(signal === 'SIGINT' ? 130 : 143);
    void (env?.cleanup() ?? Promise.resolve()).then(done, done);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    const config = readBenchConfig();
    env = await createBenchEnvironment(config, name);
    log(`database ${env.databaseName}, queue prefix ${env.prefix}, ${config.size} size`);
    const results = new BenchResults(name, config.size);
    const machine = await describeMachine(env);
    await body({ env, results, size: config.size, log });
    results.print();
    await results.save(machine);
  } catch (error) {
    exitCode = 1;
    // After a signal the measurement fails because its connections were closed under it: no news.
    if (!interrupted) console.error(`${name} failed: ${describeError(error)}`);
  } finally {
    try {
      await env?.cleanup();
    } catch (error) {
      exitCode = 1;
      console.error(`${name}: cleanup failed: ${describeError(error)}`);
    }
  }
  // Every handle the run opened is closed by now; exiting explicitly keeps a library's stray
  // timer from holding a finished benchmark (and the `npm run bench` after it) open.
  process.exit(exitCode);
}

async function describeMachine(env: BenchEnvironment): Promise<MachineInfo> {
  const [{ server_version: postgres }] =
    await env.dataSource.query<[{ server_version: string }]>('SHOW server_version');
  const client = new Redis({ ...env.redis, maxRetriesPerRequest: 1 });
  try {
    const info = await client.info('server');
    const redis = /redis_version:(\S+)/.exec(info)?.[1];
    return { ...localMachine(), postgres: postgres.split(' ')[0], redis };
  } finally {
    client.disconnect();
  }
}

/** The stack, then the chain of causes: enough to act on, without a driver's dump of every field. */
function describeError(error: unknown): string {
  const lines: string[] = [];
  for (let current = error, depth = 0; current !== undefined && depth < 5; depth++) {
    if (current instanceof AggregateError) lines.push(...current.errors.map((inner) => describeError(inner)));
    lines.push(current instanceof Error ? (current.stack ?? current.message) : inspect(current));
    current = current instanceof Error ? current.cause : undefined;
    if (current !== undefined) lines.push('caused by:');
  }
  return lines.join('\n');
}
