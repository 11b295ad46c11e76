import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { StoredEvent } from '@app/event-bus';
import { createTestBus, transportBackends, type TestBus } from '../support/bus.js';
import { createTestDatabase, testRedisUrl, waitFor, type TestDatabase } from '../support/database.js';
import { newEvent, statuses, waitForStatus } from './delivery-helpers.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const EVENTS = 30;
/** Short locks, so the jobs of a killed worker are taken up again within seconds. */
const WORKER_OPTIONS = { lockDuration: 1000, stalledInterval: 1000, maxStalledCount: 5 };

describe.each(transportBackends())('a worker killed mid-stream (%s backend)', (backend) => {
  let db: TestDatabase;
  let publisher: TestBus;
  let survivor: TestBus | undefined;
  let child: ChildProcess | undefined;
  const childHandled = new Set<string>();
  const survivorHandled = new Set<string>();

  /** Starts the fixture worker process on the same database and queue; resolves once it consumes. */
  async function spawnWorker(): Promise<ChildProcess> {
    const proc = spawn(
      process.execPath,
      ['--import', './test/support/ts-loader/register.mjs', 'test/fixtures/delivery-worker.ts'],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          DATABASE_URL: db.url,
          QUEUE_BACKEND: backend,
          REDIS_URL: testRedisUrl(),
          QUEUE_NAME: publisher.queueName,
          QUEUE_PREFIX: publisher.prefix ?? '',
          HANDLER_MS: '150',
          CONCURRENCY: '4',
          WORKER_OPTIONS: JSON.stringify(WORKER_OPTIONS),
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    child = proc; // killed by afterEach even if it never gets ready
    let ready = false;
    createInterface({ input: proc.stdout }).on('line', (line) => {
      const message = JSON.parse(line) as { ready?: boolean; handled?: string };
      if (message.ready) ready = true;
      if (message.handled) childHandled.add(message.handled);
    });
    await waitFor(() => ready || proc.exitCode !== null, { timeoutMs: 20_000, message: 'child worker ready' });
    if (!ready) throw new Error(`the child worker exited with code ${proc.exitCode}`);
    return proc;
  }

  beforeAll(async () => {
    db = await createTestDatabase(`delivery-crash-${backend}`);
    // Publishes only: the child process consumes, then a survivor bus started after the kill.
    publisher = await createTestBus({ db, backend, suite: 'delivery-crash', worker: false });
  });

  afterEach(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  afterAll(async () => {
    await survivor?.close();
    await publisher?.close();
    await db?.drop();
  });

  it('leaves no event pending or processing: another worker finishes them all (at least once)', async () => {
    child = await spawnWorker();
    const events = await publisher.bus.publishAll(
      Array.from({ length: EVENTS }, (_, n) => newEvent('crash.tick', { payload: { n } })),
    );
    const ids = events.map((event) => event.id);
    const processingNow = async () =>
      [...(await statuses(db.dataSource, ids)).entries()]
        .filter(([, status]) => status === 'processing')
        .map(([id]) => id);

    // Kill it while it is in the middle of the stream: some events done, some in its hands.
    await waitFor(async () => childHandled.size >= 4 && (await processingNow()).length > 0, {
      timeoutMs: 20_000,
      message: 'the child worker busy mid-stream',
    });
    child.kill('SIGKILL');
    await once(child, 'exit');
    // What the dead worker left: the jobs in its hands (their locks now expire: BullMQ's stalled-job
    // recovery) and the ones it had not taken yet. Whether a job in its hands already showed
    // `processing` depends on how long its handler had run, so count every unfinished event.
    const unfinished = [...(await statuses(db.dataSource, ids)).entries()]
      .filter(([, status]) => status !== 'processed')
      .map(([id]) => id);
    expect(unfinished.length).toBeGreaterThan(0);
    expect(childHandled.size).toBeLessThan(EVENTS);

    survivor = await createTestBus({
      db,
      backend,
      suite: 'delivery-crash',
      sameQueueAs: publisher,
      workerOptions: WORKER_OPTIONS,
      initialize: false,
    });
    await survivor.bus.subscribe(
      'crash.*',
      async (event: StoredEvent) => {
        survivorHandled.add(event.id);
      },
      { name: 'crash-handler' },
    );
    await survivor.bus.initialize();
    await waitForStatus(db.dataSource, ids, 'processed', 30_000);

    const final = await statuses(db.dataSource, ids);
    expect([...final.values()].filter((status) => status !== 'processed')).toEqual([]);
    // What the dead worker had not finished was delivered by the survivor.
    for (const id of unfinished) expect(survivorHandled.has(id)).toBe(true);
    for (const id of ids) expect(childHandled.has(id) || survivorHandled.has(id)).toBe(true);
  });
});
