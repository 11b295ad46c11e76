/**
 * What the fault suite's child processes share: their settings from the environment, a DataSource
 * and a `BullMQEventBus` built on them, stdout reports, and the oracle files — lines appended with
 * appendFileSync, so what a line says happened survives the SIGKILL that follows it.
 *
 * Environment: DATABASE_URL, REDIS_URL, QUEUE_NAME, QUEUE_PREFIX, CHILD_NAME, and optionally
 * WORKER_OPTIONS and RELAY (JSON), CONCURRENCY.
 */
import { appendFileSync } from 'node:fs';
import type { LoggerService } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  BullMQEventBus,
  eventBusEntities,
  EventStoreRepository,
  PersistentEventStore,
  type EventBusOptions,
} from '@app/event-bus';

export function env(name: string): string {
  const value = process.env[name];
  if (value === undefined) throw new Error(`fault child: ${name} is not set`);
  return value;
}

export function report(message: object): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

/** Appends one line to an oracle file, synchronously: once this returns, the line is in the file. */
export function appendLine(file: string, line: string): void {
  appendFileSync(file, `${line}\n`);
}

/** The test process holds our stdin open; when it goes away (even killed), so do we. */
export function exitWithParent(): void {
  process.stdin.on('end', () => process.kill(process.pid, 'SIGKILL'));
  process.stdin.on('error', () => process.kill(process.pid, 'SIGKILL'));
  process.stdin.resume();
}

export async function openDataSource(): Promise<DataSource> {
  return new DataSource({
    type: 'postgres',
    url: env('DATABASE_URL'),
    entities: eventBusEntities,
    poolSize: 5,
  }).initialize();
}

export function redisConnection(): { host: string; port: number } {
  const url = new URL(env('REDIS_URL'));
  return { host: url.hostname, port: Number(url.port || 6379) };
}

/** A bus on the scenario's database and Redis; `overrides` for what a child changes (worker: false, a queue, a store). */
export function createBus(dataSource: DataSource, overrides: Partial<EventBusOptions> = {}): BullMQEventBus {
  return new BullMQEventBus({
    eventStore: new PersistentEventStore(new EventStoreRepository(dataSource)),
    connection: env('REDIS_URL'),
    queueName: env('QUEUE_NAME'),
    prefix: env('QUEUE_PREFIX'),
    concurrency: Number(process.env.CONCURRENCY ?? 4),
    workerOptions: JSON.parse(process.env.WORKER_OPTIONS ?? '{}') as EventBusOptions['workerOptions'],
    relay: JSON.parse(process.env.RELAY ?? '{}') as EventBusOptions['relay'],
    // Quick, bounded retries: a handler that failed under a fault (a publish refused) tries again soon.
    defaultRetry: { maxAttempts: 10, backoff: { type: 'fixed', delay: 300 } },
    // stdout carries the reports; the library's warnings go to stderr (the child's log file).
    logger: stderrLogger,
    ...overrides,
  });
}

const writeStderr =
  (level: string) =>
  (message: unknown, ...rest: unknown[]): void => {
    const extra = rest.filter((part) => typeof part === 'string').join(' ');
    process.stderr.write(
      `${new Date().toISOString()} ${process.env.CHILD_NAME} ${level} ${String(message)} ${extra}\n`,
    );
  };
const stderrLogger: LoggerService = {
  log: () => undefined,
  warn: writeStderr('WARN'),
  error: writeStderr('ERROR'),
};

/** Ends the process after `work`, or after `timeoutMs` if it hangs (a DataSource whose server is frozen). */
export async function exitAfter(work: Promise<unknown>, timeoutMs: number, code: number): Promise<never> {
  const timer = setTimeout(() => process.exit(code), timeoutMs);
  await work.catch(() => undefined);
  clearTimeout(timer);
  process.exit(code);
}
