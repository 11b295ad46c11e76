/** BullMQ queues and workers of a run: on the run's prefix, closed and obliterated at cleanup. */
import { Queue, Worker } from 'bullmq';
import type { Processor, WorkerOptions } from 'bullmq';
import { WORKER_CONCURRENCY } from './bench-config.js';
import type { BenchEnvironment } from './bench-environment.js';

export function createBenchQueue(env: BenchEnvironment, name: string): Queue {
  const queue = new Queue(name, { connection: env.redis, prefix: env.prefix });
  env.onCleanup(async () => {
    await queue.obliterate({ force: true });
    await queue.close();
  });
  return queue;
}

/** A worker with the shared concurrency; jobs are removed on completion, as a busy production queue would. */
export function createBenchWorker(
  env: BenchEnvironment,
  name: string,
  processor: Processor,
  options: Partial<WorkerOptions> = {},
): Worker {
  const worker = new Worker(name, processor, {
    connection: env.redis,
    prefix: env.prefix,
    concurrency: WORKER_CONCURRENCY,
    removeOnComplete: { count: 1000 },
    ...options,
  });
  // A worker without an 'error' listener logs every connection hiccup; surface them once instead.
  worker.on('error', (error) => console.error(`worker ${name}: ${error.message}`));
  env.onCleanup(() => worker.close());
  return worker;
}
