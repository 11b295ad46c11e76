/**
 * The CLI (`runEventBusCli`) as an operator runs it: a child process booting a user's own AppModule
 * (fixtures/shop-app.module.ts) against this file's database and Redis prefix, while the "running
 * app" (the same module, booted here with a worker) handles the workload. Checks each command's
 * exit status and `--json` output, the effect of `retry-failed`, Ctrl-C in the middle of a replay,
 * and that the CLI process takes no queue jobs.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { EVENT_BUS_QUEUE, EventBus, type NewDomainEvent, type StoredEvent } from '@app/event-bus';
import { purgeRedisQueue } from '../support/bus.js';
import {
  createTestDatabase,
  testRedisConnection,
  testRedisUrl,
  uniquePrefix,
  waitFor,
  type TestDatabase,
} from '../support/database.js';
import { runCli, startCli, type CliRun } from './cli-process.js';
import { MAILER, PROJECTION, ShopAppModule, ShopHandlers } from './fixtures/shop-app.module.js';

const ENTRY = 'test/cli/fixtures/cli-main.ts';
const SAMPLE_ENTRY = 'apps/workflow-engine/src/cli.ts';
const TENANT = '33333333-3333-4333-8333-333333333333';
const BOOT_MS = 30_000;

describe('event bus CLI', () => {
  let db: TestDatabase;
  let prefix: string;
  let app: INestApplicationContext | undefined;
  let bus: EventBus;
  let env: NodeJS.ProcessEnv;
  const running: CliRun[] = [];
  let placed: StoredEvent[];
  let rejected: StoredEvent;

  const order = (type: string, workflowId: string, timestamp: string): NewDomainEvent => ({
    type,
    tenantId: TENANT,
    timestamp,
    payload: { total: 10 },
    metadata: { workflowId },
  });
  const cli = (...args: string[]) => runCli(ENTRY, args, env);
  const json = <T>(stdout: string): T => JSON.parse(stdout) as T;
  const statusOf = async (id: string) =>
    (await app!.get(EventBus).getEventsByWorkflowId('wf-1')).find((e) => e.id === id)?.status;

  beforeAll(async () => {
    db = await createTestDatabase('cli');
    prefix = uniquePrefix('cli');
    env = { ...process.env, DATABASE_URL: db.url, REDIS_URL: testRedisUrl(), EVENT_BUS_PREFIX: prefix };
    app = await NestFactory.createApplicationContext(
      ShopAppModule.forRoot({ databaseUrl: db.url, redisUrl: testRedisUrl(), prefix }),
      { logger: false },
    );
    bus = app.get(EventBus);
    // The workload: workflow wf-1 (three orders placed, one rejected whose mail fails) ...
    placed = await bus.publishAll([
      order('order.placed', 'wf-1', '2026-03-01T10:00:00.000Z'),
      order('order.placed', 'wf-1', '2026-03-01T10:01:00.000Z'),
      order('order.placed', 'wf-1', '2026-03-01T10:02:00.000Z'),
    ]);
    rejected = await bus.publish(order('order.rejected', 'wf-1', '2026-03-01T10:03:00.000Z'));
    // ... and enough of another workflow for a replay that takes a while when each event costs 50 ms.
    await bus.publishAll(
      Array.from({ length: 60 }, (_, index) =>
        order('order.placed', 'wf-2', new Date(Date.parse('2026-03-02T00:00:00.000Z') + index * 1000).toISOString()),
      ),
    );
    await waitFor(
      async () =>
        (await bus.getFailedDeliveries({ tenantId: TENANT })).length === 1 &&
        (await statusOf(placed[2].id)) === 'processed',
      {
        timeoutMs: 15_000,
        message: 'the workload settled, the mail failed',
      },
    );
  });

  afterAll(async () => {
    for (const run of running) run.killIfRunning();
    await app?.close();
    await purgeRedisQueue(testRedisConnection(), prefix, 'workflow-events').catch(() => undefined);
    await db?.drop();
  });

  it('failed: the failed delivery as JSON; a bad argument is refused with a JSON error', async () => {
    // Independent commands run side by side: each boots the app, which is most of its time.
    const [all, bad] = await Promise.all([cli('failed', '--json'), cli('failed', '--limit', 'ten', '--json')]);
    expect(all.code).toBe(0);
    expect(json(all.stdout)).toEqual([
      expect.objectContaining({
        eventId: rejected.id,
        handler: MAILER,
        attempts: 1,
        lastError: expect.stringContaining('mail server refused'),
      }),
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(json(bad.stderr)).toEqual({
      error: { name: 'CliUsageError', message: "--limit must be a positive integer, got 'ten'" },
    });
  }, 90_000);

  it("inspect: a workflow's events in order with status and the handler failure; an unknown one fails", async () => {
    const [inspected, unknown] = await Promise.all([
      cli('inspect', 'wf-1', '--tenant', TENANT, '--json'),
      cli('inspect', 'wf-nothing'),
    ]);
    expect(inspected.code).toBe(0);
    const view = json<{
      workflowId: string;
      events: { id: string; status: string; failures: { handler: string }[] }[];
    }>(inspected.stdout);
    expect(view.workflowId).toBe('wf-1');
    expect(view.events.map((event) => [event.id, event.status])).toEqual([
      ...placed.map((event) => [event.id, 'processed']),
      [rejected.id, 'failed'],
    ]);
    expect(view.events[3].failures).toEqual([expect.objectContaining({ handler: MAILER, attempts: 1 })]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim()).toBe('error: CliNotFoundError: No events are stored for workflow "wf-nothing"');
  }, 90_000);

  it('ordered: an empty list; resetting an unknown handler fails with the reason', async () => {
    const [list, reset] = await Promise.all([cli('ordered', '--json'), cli('ordered', '--reset', 'Nope.handle')]);
    expect(list.code).toBe(0);
    expect(json(list.stdout)).toEqual([]);
    expect(reset.code).toBe(1);
    expect(reset.stderr).toContain('no ordered handler is named "Nope.handle"');
    expect(reset.stderr).not.toContain('    at ');
  }, 90_000);

  it('replay: a finished replay as JSON; an unknown handler is refused', async () => {
    const [done, unknown] = await Promise.all([
      cli('replay', '--from', '2026-03-01', '--workflow', 'wf-1', '--handler', PROJECTION, '--json'),
      cli('replay', '--from', '2026-03-01', '--handler', MAILER),
    ]);
    expect(done.code).toBe(0);
    expect(json(done.stdout)).toEqual({
      total: 4,
      read: 4,
      events: 4,
      handlerCalls: 4,
      failed: 0,
      lastSequence: rejected.sequenceNumber,
      stopped: false,
    });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(`--handler names no handler that takes part in replays: ${MAILER}`);
  }, 90_000);

  it('replay: Ctrl-C stops it between events, says how far it got and how to resume, exit 130', async () => {
    const run = startCli(ENTRY, ['replay', '--from', '2026-03-02', '--type', 'order.placed'], {
      ...env,
      REPLAY_DELAY_MS: '50',
    });
    running.push(run);
    // Not a terminal: a progress line instead of a bar, the first at once.
    await run.waitForOutput('events read', BOOT_MS);
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(130);
    expect(run.stderr()).toContain('replay: stopping');
    const summary = /Replay stopped after (\d+) events delivered .*, (\d+) of (\d+) read, last sequence #(\d+)\./.exec(
      run.stdout(),
    );
    expect(summary).not.toBeNull();
    const [, events, read, total, last] = summary!.map(Number);
    expect(total).toBe(60);
    expect(read).toBeLessThan(total);
    expect(events).toBe(read);
    expect(run.stdout()).toContain(
      `To resume: replay --from 2026-03-02T00:00:00.000Z --type order.placed --after-sequence ${last}`,
    );

    // The resume command replays exactly the rest.
    const rest = await cli(
      'replay',
      '--from',
      '2026-03-02',
      '--type',
      'order.placed',
      '--after-sequence',
      String(last),
      '--json',
    );
    expect(rest.code).toBe(0);
    expect(json(rest.stdout)).toMatchObject({ total: total - read, read: total - read, stopped: false });
  }, 90_000);

  it('tail: prints the events stored while it runs until Ctrl-C; the CLI process takes no queue jobs', async () => {
    const queue = app!.get<Queue>(getQueueToken(EVENT_BUS_QUEUE));
    const workersBefore = (await queue.getWorkers()).length;
    // The running app's worker is seen, so a second one (the CLI's) would be too.
    expect(workersBefore).toBeGreaterThan(0);
    const run = startCli(ENTRY, ['tail', '--json', '--type', 'order.shipped', '--interval', '100'], env);
    running.push(run);
    await run.waitForOutput('tail: following', BOOT_MS);
    expect((await queue.getWorkers()).length).toBe(workersBefore);

    await bus.publish(order('order.placed', 'wf-3', '2026-03-03T00:00:00.000Z'));
    const shipped = await bus.publish(order('order.shipped', 'wf-3', '2026-03-03T00:01:00.000Z'));
    await run.waitForOutput(shipped.id, 15_000);
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(0);
    const lines = run
      .stdout()
      .trim()
      .split('\n')
      .map((line) => json<StoredEvent>(line));
    expect(lines.map((event) => [event.id, event.type])).toEqual([[shipped.id, 'order.shipped']]);
  }, 90_000);

  it('retry-failed: re-drives the failed delivery, which the running app then delivers', async () => {
    ShopHandlers.mailFails = false;
    const retried = await cli('retry-failed', '--handler', MAILER, '--json');
    expect(retried.code).toBe(0);
    expect(json(retried.stdout)).toEqual({ retried: 1 });
    await waitFor(async () => (await statusOf(rejected.id)) === 'processed', {
      timeoutMs: 15_000,
      message: 'the re-driven mail delivered',
    });
    expect(await bus.getFailedDeliveries({ tenantId: TENANT })).toEqual([]);
  }, 90_000);

  it("ships with the sample app, on the app's own AppModule", async () => {
    const sampleEnv = { ...env, EVENT_QUEUE_PREFIX: prefix, REDIS_URL: testRedisUrl(), DATABASE_URL: db.url };
    const failed = await runCli(SAMPLE_ENTRY, ['failed', '--json'], sampleEnv);
    expect(failed.code).toBe(0);
    expect(json(failed.stdout)).toEqual(await bus.getFailedDeliveries());
  }, 90_000);
});
