/**
 * CPU time spent by the services during a measurement, next to the benchmark process's own:
 * on a 2-core machine the three compete, and the split says which part of a pipeline costs what.
 *
 * - PostgreSQL: the backends of the run's own database (pg_stat_activity), read from
 *   /proc/<pid>/stat. Only when those pids are local `postgres` processes; `undefined` otherwise.
 * - Redis: `INFO cpu` of the whole server, so other clients' work on a shared server counts too.
 */
import { readFile } from 'node:fs/promises';
import { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import type { BenchRedisConnection } from './bench-redis.js';

/** Linux clock ticks per second; 100 on every mainstream kernel configuration. */
const CLOCK_TICKS = 100;

export interface ServiceCpu {
  postgresSeconds?: number;
  redisSeconds?: number;
}

interface Snapshot {
  postgres?: Map<number, number>;
  redis?: number;
}

export class ServiceCpuMeter {
  private readonly redis: Redis;

  constructor(
    private readonly dataSource: DataSource,
    redis: BenchRedisConnection,
  ) {
    this.redis = new Redis({ ...redis, maxRetriesPerRequest: 1 });
  }

  /** Starts a measurement; the returned function ends it and gives the CPU seconds spent since. */
  async start(): Promise<() => Promise<ServiceCpu>> {
    const before = await this.snapshot();
    return async () => {
      const after = await this.snapshot();
      let postgresSeconds: number | undefined;
      if (before.postgres && after.postgres) {
        postgresSeconds = 0;
        // Backends that started during the measurement count from zero.
        for (const [pid, seconds] of after.postgres) postgresSeconds += seconds - (before.postgres.get(pid) ?? 0);
      }
      const redisSeconds =
        before.redis !== undefined && after.redis !== undefined ? after.redis - before.redis : undefined;
      return { postgresSeconds, redisSeconds };
    };
  }

  close(): void {
    this.redis.disconnect();
  }

  private async snapshot(): Promise<Snapshot> {
    const [postgres, redis] = await Promise.all([this.postgresCpu(), this.redisCpu()]);
    return { postgres, redis };
  }

  private async postgresCpu(): Promise<Map<number, number> | undefined> {
    const rows = await this.dataSource.query<{ pid: number }[]>(
      'SELECT pid FROM pg_stat_activity WHERE datname = current_database()',
    );
    const cpu = new Map<number, number>();
    for (const { pid } of rows) {
      let stat: string;
      try {
        stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      } catch {
        continue; // a backend that just ended
      }
      // A remote server's pids name unrelated local processes, if any: no figure rather than a wrong one.
      if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) !== 'postgres') return undefined;
      // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      cpu.set(pid, (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS);
    }
    return cpu.size > 0 ? cpu : undefined;
  }

  private async redisCpu(): Promise<number | undefined> {
    const info = await this.redis.info('cpu');
    const user = /used_cpu_user:([\d.]+)/.exec(info)?.[1];
    const system = /used_cpu_sys:([\d.]+)/.exec(info)?.[1];
    return user && system ? Number(user) + Number(system) : undefined;
  }
}
