/**
 * What one benchmark run is configured with: the size (`--full` for the figures, the
 * default for a run of a minute or two on a 2-core machine) and the services, from the same
 * environment variables the app uses.
 */
export type BenchSize = 'default' | 'full';

export interface BenchConfig {
  size: BenchSize;
  databaseUrl: string;
  redisUrl: string;
}

export function readBenchConfig(argv: readonly string[] = process.argv.slice(2)): BenchConfig {
  const unknown = argv.filter((arg) => arg !== '--full');
  if (unknown.length > 0) throw new Error(`Unknown argument(s) ${unknown.join(' ')}; the only option is --full`);
  return {
    size: argv.includes('--full') ? 'full' : 'default',
    databaseUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  };
}

/** Picks the figure of the run's size. */
export function bySize<T>(size: BenchSize, sizes: { default: T; full: T }): T {
  return sizes[size];
}

/**
 * Settings shared by every contender, so a ratio compares code and not tuning: BullMQ worker
 * concurrency (the library's default), the PostgreSQL pool size (TypeORM's default for pg).
 */
export const WORKER_CONCURRENCY = 10;
export const POOL_SIZE = 10;
