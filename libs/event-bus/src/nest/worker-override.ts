import type { EventBusCoreOptions } from '../core/event-bus.options.js';

/**
 * A process-wide override of the `worker` option of every `EventBusModule` created after it is set.
 * `runEventBusCli` sets it to `false` before it boots the user's own AppModule: an operator's
 * `replay` or `retry-failed` must not start taking the app's queue jobs, and the CLI cannot reach
 * into the options the AppModule passes to `forRoot`/`forRootAsync` (Nest has no provider override
 * outside of testing). It is a process setting on purpose: the CLI process is the whole process.
 */
let workerOverride: boolean | undefined;

/** `false`: no module consumes in this process; `undefined`: each module's own `worker` option. */
export function overrideEventBusWorker(worker: boolean | undefined): void {
  workerOverride = worker;
}

export function applyWorkerOverride<T extends EventBusCoreOptions>(options: T): T {
  return workerOverride === undefined ? options : { ...options, worker: workerOverride };
}
