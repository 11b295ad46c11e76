import { relative } from 'node:path';
import type { EmbeddedPostgres } from '../database/embedded-postgres.launcher.js';
import { redact, type ResolvedAppConfig } from './app-config.js';

/** The one start-up line that says which mode runs and where its data lives. */
export function describeMode(config: ResolvedAppConfig, embedded: EmbeddedPostgres | undefined): string {
  const database = embedded
    ? `embedded PostgreSQL at ${redact(embedded.url)}, data in ${shortPath(embedded.dataDir)} ` +
      `(${embedded.initialised ? 'created now' : 'kept from the last run'}; its log: ${shortPath(embedded.logFile)})`
    : `PostgreSQL at ${redact(config.databaseUrl)}`;
  const mode =
    embedded && config.queue.backend === 'postgres' ? 'embedded (nothing to install)' : 'configured services';
  return `Mode: ${mode} — events stored in ${database}; queue: ${config.queue.source}, queue "${config.queueName}"`;
}

function shortPath(path: string): string {
  const fromHere = relative(process.cwd(), path);
  return fromHere && !fromHere.startsWith('..') ? fromHere : path;
}
