/**
 * One scenario's world: a temp dir with the oracle files and the children's log, a PostgreSQL
 * cluster with the migrated database, a Redis server (with or without persistence), and the worker
 * and publisher children — all of it registered for cleanup. `check()` applies the invariants and
 * prints the scenario's figures on one line.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { persistentRedisArgs, startOwnRedisServer, type OwnRedisServer } from '../../support/redis-server.js';
import { CleanupRegistry } from './cleanup-registry.js';
import { FaultChild } from './fault-child.js';
import { createFaultDatabase } from './fault-database.js';
import { faultProfile } from './fault-profile.js';
import { checkInvariants, type FaultOutcome } from './invariants.js';
import { oracleFiles, type OracleFiles } from './oracle-files.js';
import { startPostgresCluster, type PostgresCluster } from './postgres-cluster.js';
import { RecoveryWatch } from './recovery-watch.js';

export interface FaultRunOptions {
  /** Redis with an append-only file fsynced at every write, or none at all. @default false */
  redisPersistence?: boolean;
}

/** Short locks and intervals, so a dead worker's jobs and lost or unenqueued events come back within seconds. */
export const WORKER_OPTIONS = { lockDuration: 2_000, stalledInterval: 1_000, maxStalledCount: 20 };
export const RELAY = { intervalMs: 500, graceMs: 1_000, lostJobCheckIntervalMs: 2_000 };

export class FaultRun {
  readonly files: OracleFiles;
  private readonly logFile: string;
  private children = 0;
  private recovery?: RecoveryWatch;

  private constructor(
    readonly scenario: string,
    readonly registry: CleanupRegistry,
    readonly dir: string,
    readonly postgres: PostgresCluster,
    readonly databaseUrl: string,
    readonly dataSource: DataSource,
    readonly redis: OwnRedisServer,
  ) {
    this.files = oracleFiles(dir);
    this.logFile = join(dir, 'children.log');
  }

  static async start(scenario: string, options: FaultRunOptions = {}): Promise<FaultRun> {
    const registry = new CleanupRegistry();
    try {
      const dir = mkdtempSync(join(tmpdir(), 'fault-run-'));
      // FAULTS_KEEP=1 keeps the oracle files and the children's log for a look after the run.
      if (process.env.FAULTS_KEEP !== '1') registry.addDir('run directory', dir);
      else process.stdout.write(`fault run directory: ${dir}\n`);
      const postgres = await startPostgresCluster(registry);
      const { url, dataSource } = await createFaultDatabase(postgres, registry);
      // Runs first at cleanup: a frozen server would hang every later step.
      registry.add('thaw postgres', () => postgres.thaw());
      const redis = guarded(
        await startOwnRedisServer(options.redisPersistence ? persistentRedisArgs(dir) : []),
        registry,
      );
      registry.add('redis server', () => redis.stop());
      return new FaultRun(scenario, registry, dir, postgres, url, dataSource, redis);
    } catch (error) {
      await registry.cleanup().catch(() => undefined);
      throw error;
    }
  }

  /** A worker child consuming the scenario's queue (see children/worker.ts for `env`). */
  startWorker(env: Record<string, string> = {}): Promise<FaultChild> {
    return this.startChild('worker', 'worker.ts', {
      WORKER_OPTIONS: JSON.stringify(WORKER_OPTIONS),
      HANDLER_MS: '20',
      ...env,
    });
  }

  /** An ordered-handlers worker (children/ordered-worker.ts); its leases are taken over within `takeoverMs`. */
  startOrderedWorker(takeoverMs: number, env: Record<string, string> = {}): Promise<FaultChild> {
    return this.startChild('ordered-worker', 'ordered-worker.ts', { ORDERED_TAKEOVER_MS: String(takeoverMs), ...env });
  }

  /** A publisher child (see children/publisher.ts for `env`); `waitReady: false` for one that may kill itself at once. */
  startPublisher(env: Record<string, string> = {}, { waitReady = true } = {}): Promise<FaultChild> {
    return this.startChild('publisher', 'publisher.ts', { TOTAL: String(faultProfile.events), ...env }, waitReady);
  }

  /** Call when the (last) fault ends: from here the recovery time of what was acknowledged so far is measured. */
  faultEnded(): void {
    this.recovery?.stop();
    this.recovery = new RecoveryWatch(this.dataSource, this.files, Date.now(), faultProfile.settleBoundMs);
    this.registry.add('recovery watch', () => this.recovery?.stop());
  }

  /** Ends an unbounded publisher (`TOTAL: '0'`): it finishes the publishes in flight and exits. */
  async stopPublisher(publisher: FaultChild): Promise<void> {
    publisher.signal('SIGTERM');
    await publisher.waitForExit(faultProfile.streamBoundMs);
  }

  /** Applies the invariants, prints the figures line, and says what broke (with the children's last log lines). */
  async check(figures: Record<string, number> = {}): Promise<FaultOutcome> {
    const outcome = await checkInvariants(this.dataSource, this.files, { boundMs: faultProfile.settleBoundMs });
    const recoveryMs = (await this.recovery?.recoveryMs()) ?? Number.NaN;
    const line = Object.entries({
      events: outcome.events,
      ...figures,
      lost: outcome.lost,
      duplicates: outcome.duplicates,
      rejected: outcome.rejectedPublishes,
      recovery_ms: Math.round(recoveryMs),
    })
      .map(([name, value]) => `${name}=${value}`)
      .join(' ');
    process.stdout.write(`[fault ${faultProfile.name}] ${this.scenario}: ${line}\n`);
    if (outcome.violations.length > 0)
      process.stderr.write(`${this.scenario} violations:\n${outcome.violations.join('\n')}\n${this.logTail()}`);
    return outcome;
  }

  cleanup(): Promise<void> {
    return this.registry.cleanup();
  }

  private startChild(role: string, script: string, env: Record<string, string>, waitReady = true): Promise<FaultChild> {
    return FaultChild.start(this.registry, {
      name: `${role}-${++this.children}`,
      script,
      logFile: this.logFile,
      waitReady,
      env: {
        DATABASE_URL: this.databaseUrl,
        REDIS_URL: this.redis.url,
        QUEUE_NAME: 'fault-events',
        QUEUE_PREFIX: 'faults',
        RELAY: JSON.stringify(RELAY),
        CALLS_FILE: this.files.calls,
        ACKS_FILE: this.files.acks,
        ROLLBACKS_FILE: this.files.rollbacks,
        ERRORS_FILE: this.files.errors,
        ...env,
      },
    });
  }

  private logTail(lines = 30): string {
    if (!existsSync(this.logFile)) return '';
    const tail = readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    return `--- last lines of the children's log ---\n${tail}\n`;
  }
}

/** The Redis server, its pid listed with the orphan reaper while it runs. */
function guarded(redis: OwnRedisServer, registry: CleanupRegistry): OwnRedisServer {
  registry.watchServer(redis.pid);
  return {
    port: redis.port,
    url: redis.url,
    get running() {
      return redis.running;
    },
    get pid() {
      return redis.pid;
    },
    async stop() {
      const pid = redis.pid;
      await redis.stop();
      registry.forgetServer(pid);
    },
    async start() {
      await redis.start();
      registry.watchServer(redis.pid);
    },
  };
}
