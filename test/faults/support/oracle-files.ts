/**
 * The oracle files a scenario's children append to (see test/faults/children/child-bus.ts), and
 * how they read back. They are appended synchronously before or after the fact they record, so a
 * SIGKILL can lose the fact's record only if the fact itself did not complete.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface OracleFiles {
  /** `eventId handler pid`, appended after a handler call finished. */
  calls: string;
  /** `eventId type`, appended after `publish` resolved (publisher and follow-ups). */
  acks: string;
  /** `eventId`, appended after a transaction holding its publish rolled back. */
  rollbacks: string;
  /** `name<TAB>message` of each rejected publish. */
  errors: string;
}

export interface HandlerCall {
  eventId: string;
  handler: string;
  pid: number;
}

export function oracleFiles(dir: string): OracleFiles {
  const files = {
    calls: join(dir, 'calls.txt'),
    acks: join(dir, 'acks.txt'),
    rollbacks: join(dir, 'rollbacks.txt'),
    errors: join(dir, 'publish-errors.txt'),
  };
  for (const file of Object.values(files)) writeFileSync(file, '');
  return files;
}

function lines(file: string): string[][] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => line.split(line.includes('\t') ? '\t' : ' '));
}

/** Acknowledged event id → type. */
export function readAcks(files: OracleFiles): Map<string, string> {
  return new Map(lines(files.acks).map(([id, type]) => [id, type]));
}

export function readCalls(files: OracleFiles): HandlerCall[] {
  return lines(files.calls).map(([eventId, handler, pid]) => ({ eventId, handler, pid: Number(pid) }));
}

export function readRollbacks(files: OracleFiles): string[] {
  return lines(files.rollbacks).map(([id]) => id);
}

export function readPublishErrors(files: OracleFiles): { name: string; message: string }[] {
  return lines(files.errors).map(([name, message]) => ({ name, message: message ?? '' }));
}
