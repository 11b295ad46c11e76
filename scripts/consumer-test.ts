/**
 * `npm run test:consumer`: the library as a user gets it. Packs libs/event-bus with `npm pack`,
 * writes a minimal Nest app (test/consumer/app) into a temporary directory outside the repository,
 * installs the tarball and the peers it declares from the registry, type-checks the app, runs its
 * unit test on `./testing` (in memory, no services), applies `eventBusMigrations` with the TypeORM
 * CLI to a database of its own, runs a publish → `@OnEvent` round trip on Redis under a queue
 * prefix of its own, and a command of `./cli` (`failed --json`) on the app's AppModule. Any
 * failure exits non-zero; the directory, the database and the Redis keys are removed either way.
 *
 * Only what the package declares is installed, so a dependency, peer, export, type or migration
 * missing from it fails the run.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';

const ROOT = process.cwd();
const LIBRARY = join(ROOT, 'libs/event-bus');
const FIXTURE = join(ROOT, 'test/consumer/app');
const STEP_TIMEOUT_MS = 90_000;

interface PackageJson {
  name: string;
  version: string;
  peerDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;

/** The environment without the outer `npm run`'s `npm_*` settings, which would steer the inner npm. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('npm_')));
  return { ...env, ...extra };
}

interface RunOptions {
  env?: NodeJS.ProcessEnv;
  /** Print the command's output even when it succeeds (it is always printed when it fails). */
  verbose?: boolean;
}

/** Runs one step; its output is shown when it fails (or `verbose`), and its stdout returned. */
function run(label: string, command: string, args: string[], cwd: string, options: RunOptions = {}): string {
  const started = Date.now();
  const result = spawnSync(command, args, {
    cwd,
    env: options.env ?? cleanEnv(),
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: STEP_TIMEOUT_MS,
    maxBuffer: 64 * 1024 * 1024,
  });
  const failed = result.error !== undefined || result.status !== 0;
  if (failed || options.verbose) process.stdout.write(`${result.stdout ?? ''}${result.stderr ?? ''}`);
  if (result.error) throw new Error(`${label} could not run ${command}: ${result.error.message}`);
  if (result.status !== 0) {
    throw new Error(`${label} failed (${command} ${args.join(' ')}: exit ${result.status ?? result.signal})`);
  }
  console.log(`${label}: ok in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return result.stdout;
}

/** The class names of the library's migrations, read from its sources: what the package must apply. */
function expectedMigrations(): string[] {
  const dir = join(LIBRARY, 'src/migrations');
  return readdirSync(dir)
    .filter((file) => /^\d+-.*\.ts$/.test(file))
    .sort()
    .map((file) => {
      const match = /export class (\w+)/.exec(readFileSync(join(dir, file), 'utf8'));
      if (!match) throw new Error(`no migration class in ${file}`);
      return match[1];
    });
}

function writeApp(dir: string, tarball: string): void {
  const library = readJson<PackageJson>(join(LIBRARY, 'package.json'));
  const repo = readJson<PackageJson>(join(ROOT, 'package.json'));
  const app = {
    name: 'event-bus-consumer',
    private: true,
    type: 'module',
    // The package and exactly the peers it declares: nothing of this repository's node_modules.
    dependencies: { [library.name]: `file:./${tarball}`, ...library.peerDependencies },
    devDependencies: {
      typescript: repo.devDependencies?.typescript ?? 'latest',
      '@types/node': repo.devDependencies?.['@types/node'] ?? 'latest',
    },
  };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(app, null, 2)}\n`);
  // The settings a Nest app needs: Node ESM resolution (so `exports` and its `types` are used),
  // decorators with metadata, strict types, and library declarations checked too.
  const tsconfig = {
    compilerOptions: {
      target: 'ES2023',
      module: 'nodenext',
      moduleResolution: 'nodenext',
      strict: true,
      experimentalDecorators: true,
      emitDecoratorMetadata: true,
      skipLibCheck: false,
      outDir: 'dist',
      rootDir: 'src',
      types: ['node'],
    },
    include: ['src/**/*.ts'],
  };
  writeFileSync(join(dir, 'tsconfig.json'), `${JSON.stringify(tsconfig, null, 2)}\n`);
  cpSync(join(FIXTURE, 'src'), join(dir, 'src'), { recursive: true });
}

async function deleteKeys(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

async function main(): Promise<void> {
  const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const suffix = randomBytes(4).toString('hex');
  const database = `eb_consumer_${suffix}`;
  const prefix = `consumer-test-${suffix}`;
  const databaseUrl = new URL(adminUrl);
  databaseUrl.pathname = `/${database}`;

  const dir = mkdtempSync(join(tmpdir(), 'event-bus-consumer-'));
  const admin = new pg.Client({ connectionString: adminUrl });
  let created = false;
  console.log(`consumer app in ${dir}, Node ${process.version}`);
  try {
    const packed = run('pack', 'npm', ['pack', '--workspace', LIBRARY, '--pack-destination', dir, '--silent'], ROOT);
    const tarball = packed.trim().split('\n').pop() ?? '';
    writeApp(dir, tarball);
    run('install', 'npm', ['install', '--no-audit', '--no-fund', '--no-package-lock', '--prefer-offline'], dir);
    run('type check', join(dir, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], dir);
    // `./testing` needs no services: the user's unit test runs before any database exists.
    run('unit test (./testing)', process.execPath, ['dist/greeting.unit-test.js'], dir, { verbose: true });

    await admin.connect();
    await admin.query(`CREATE DATABASE "${database}"`);
    created = true;
    const appEnv = cleanEnv({ DATABASE_URL: databaseUrl.toString(), REDIS_URL: redisUrl, EVENT_BUS_PREFIX: prefix });
    const cli = join(dir, 'node_modules/.bin/typeorm');
    run('migrations', cli, ['migration:run', '-d', 'dist/data-source.js'], dir, { env: appEnv });
    await checkMigrations(databaseUrl.toString());
    run('round trip', process.execPath, ['dist/main.js'], dir, { env: appEnv, verbose: true });
    // `./cli` with its optional peers: the app's own commands, JSON for a script, no job taken.
    const failed = run('cli', process.execPath, ['dist/cli.js', 'failed', '--json'], dir, { env: appEnv });
    if (!Array.isArray(JSON.parse(failed))) throw new Error(`cli failed --json printed ${failed}`);
    console.log('consumer test passed');
  } finally {
    rmSync(dir, { recursive: true, force: true });
    if (created) await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    await admin.end().catch(() => undefined);
    await deleteKeys(redisUrl, prefix);
  }
}

/** Every migration of the library's sources was applied: none is missing from `eventBusMigrations`. */
async function checkMigrations(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string }>('SELECT name FROM migrations ORDER BY timestamp');
    const applied = rows.map((row) => row.name);
    const expected = expectedMigrations();
    const missing = expected.filter((name) => !applied.includes(name));
    if (missing.length > 0) throw new Error(`migrations missing from the package: ${missing.join(', ')}`);
    console.log(`migrations applied: ${applied.join(', ')}`);
  } finally {
    await client.end();
  }
}

main().catch((error: unknown) => {
  console.error('\nconsumer test failed:', error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
