/**
 * A worker process of the scale benchmark: the compiled library (`@app/event-bus` resolves to its
 * dist/ here) consuming the run's queue with a no-op handler, steered by the parent over IPC.
 */
import { eventBusEntities } from '@app/event-bus';
import { DataSource } from 'typeorm';
import { POOL_SIZE } from '../support/bench-config.js';
import type { ChildMessage, ChildWorkerConfig, ParentMessage } from '../support/child-worker.js';
import { buildLibraryBus } from '../measures/library-bus.js';

const config = JSON.parse(process.env.BENCH_CHILD_CONFIG ?? '') as ChildWorkerConfig;
const send = (message: ChildMessage): void => {
  process.send?.(message);
};

const dataSource = new DataSource({
  type: 'postgres',
  url: config.databaseUrl,
  entities: eventBusEntities,
  installExtensions: false,
  poolSize: POOL_SIZE,
  extra: { idleTimeoutMillis: 0 },
});

let bus: Awaited<ReturnType<typeof buildLibraryBus>>['bus'] | undefined;
let stopping: Promise<void> | undefined;
let handled = 0;
const stop = (code: number): Promise<void> =>
  (stopping ??= (async () => {
    await bus?.close();
    if (dataSource.isInitialized) await dataSource.destroy();
    process.exit(code);
  })());

// The parent died or went away: do not linger as an orphan consuming the queue.
process.on('disconnect', () => void stop(1));
process.on('message', (message: ParentMessage) => {
  if (message.type === 'cpu') {
    const usage = process.cpuUsage();
    send({ type: 'cpu', seconds: (usage.user + usage.system) / 1e6 });
  } else if (message.type === 'handled') {
    send({ type: 'handled', count: handled });
  } else if (message.type === 'stop') {
    void stop(0);
  }
});

try {
  await dataSource.initialize();
  ({ bus } = await buildLibraryBus(dataSource, config.redis, config.prefix, {
    queueName: config.queueName,
    handler: () => {
      handled++;
    },
  }));
  send({ type: 'ready' });
} catch (error) {
  send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  await stop(1);
}
