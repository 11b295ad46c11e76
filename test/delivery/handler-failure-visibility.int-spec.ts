import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { LoggerService } from '@nestjs/common';
import { NonRetryableEventError } from '@app/event-bus';
import { handlerJobId } from '../../libs/event-bus/src/transport/bullmq/jobs/event-jobs.js';
import { createTestBus, transportBackends, type TestBus } from '../support/bus.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { newEvent, waitForJobState, waitForStatus } from './delivery-helpers.js';

/** Every call, with all its arguments: where a logger is handed the stack matters here. */
class ArgumentCapturingLogger implements LoggerService {
  readonly calls: Array<{ level: string; args: unknown[] }> = [];
  log(...args: unknown[]): void {
    this.calls.push({ level: 'log', args });
  }
  error(...args: unknown[]): void {
    this.calls.push({ level: 'error', args });
  }
  warn(...args: unknown[]): void {
    this.calls.push({ level: 'warn', args });
  }
  debug(...args: unknown[]): void {
    this.calls.push({ level: 'debug', args });
  }
  /** The calls of one level whose arguments, joined, contain every fragment. */
  find(level: string, ...fragments: string[]): string[] {
    return this.calls
      .filter((call) => call.level === level)
      .map((call) => call.args.map(String).join('\n'))
      .filter((text) => fragments.every((fragment) => text.includes(fragment)));
  }
}

/**
 * A handler's failure must be findable: its error is logged with its stack and the handler's name
 * (WARN while retries remain, ERROR when the delivery failed), and the failed handler job in the
 * queue (what a dashboard shows) carries the handler's own message and stack.
 */
describe.each(transportBackends())('handler failures are visible (%s backend)', (backend) => {
  let db: TestDatabase;
  let t: TestBus;
  const logger = new ArgumentCapturingLogger();
  /** The errors the handlers threw, to find their stacks in the logs and the queue. */
  const thrown: Error[] = [];

  beforeAll(async () => {
    db = await createTestDatabase(`delivery-failure-visible-${backend}`);
    t = await createTestBus({ db, backend, suite: 'delivery-failure-visible', logger, initialize: false });
    await t.bus.subscribe(
      'order.placed',
      async function brittleHandlerBody() {
        const error = new Error(`brittle broke (${thrown.length + 1})`);
        thrown.push(error);
        throw error;
      },
      { name: 'brittle', retry: { maxAttempts: 2, backoff: { type: 'fixed', delay: 10 } } },
    );
    await t.bus.subscribe(
      'order.refused',
      async function refusingHandlerBody() {
        const error = new NonRetryableEventError('refused for good');
        thrown.push(error);
        throw error;
      },
      { name: 'refusing' },
    );
    await t.bus.initialize();
  });

  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('logs each retryable failure at WARN and the final one at ERROR, with the stack and the handler name', async () => {
    const event = await t.bus.publish(newEvent('order.placed'));
    await waitForStatus(db.dataSource, [event.id], 'failed');
    const [first, second] = thrown.filter((error) => error.message.startsWith('brittle broke'));

    expect(logger.find('warn', 'Handler brittle', 'attempt 1 of 2', first.stack!)).toHaveLength(1);
    expect(logger.find('error', 'Handler brittle', 'attempt 2 of 2', second.stack!)).toHaveLength(1);
    expect(second.stack).toContain('brittleHandlerBody');
  });

  it('logs a failure that is not retried at ERROR, with the stack', async () => {
    const event = await t.bus.publish(newEvent('order.refused'));
    await waitForStatus(db.dataSource, [event.id], 'failed');
    const refused = thrown.find((error) => error.message === 'refused for good')!;

    expect(logger.find('error', 'Handler refusing', 'not retried', refused.stack!)).toHaveLength(1);
  });

  it("keeps the handler's own message and stack on the failed handler job", async () => {
    const event = await t.bus.publish(newEvent('order.placed'));
    const jobId = handlerJobId(event.id, 'brittle');
    await waitForJobState(t.inspect(), jobId, 'failed');
    const last = thrown[thrown.length - 1];

    const job = await t.inspect().getJob(jobId);
    expect(job!.failedReason).toBe(last.message);
    expect((job!.stacktrace ?? []).at(-1)).toBe(last.stack);
  });
});
