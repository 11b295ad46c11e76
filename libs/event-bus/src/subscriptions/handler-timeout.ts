import { EventBusConfigurationError, HandlerTimeoutError } from '../shared/errors.js';
import { describeValue } from '../shared/describe-value.js';
import { MAX_BACKOFF_DELAY_MS } from './backoff.js';

/** Checks a handler timeout given by a user (`@OnEvent`'s `timeoutMs`, the bus's `handlerTimeoutMs`). */
export function validateHandlerTimeout(value: unknown, optionName: string): number {
  // The same bound as a backoff delay: the largest delay a Node timer accepts.
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > MAX_BACKOFF_DELAY_MS) {
    throw new EventBusConfigurationError(
      optionName,
      `must be a positive integer of milliseconds (at most ${MAX_BACKOFF_DELAY_MS}), got ${describeValue(value)}`,
    );
  }
  return value;
}

/**
 * Runs one attempt under its limits: rejects with `HandlerTimeoutError` once `timeoutMs` passed, and
 * aborts the attempt's signal then, or when `stop` is aborted (shutdown stopped waiting). A handler
 * that ignores its signal keeps running in the background; its outcome no longer counts. With
 * `failOnStop` the attempt also rejects (with the stop's reason) when `stop` is aborted: a
 * transactional handler's transaction is then rolled back instead of holding its connection open.
 */
export async function withinHandlerLimits(
  handler: string,
  limits: { timeoutMs?: number; stop?: AbortSignal; failOnStop?: boolean },
  attempt: (signal: AbortSignal) => Promise<unknown>,
): Promise<void> {
  const controller = new AbortController();
  let rejectOnStop: ((reason: unknown) => void) | undefined;
  const stopped =
    limits.failOnStop && limits.stop ? new Promise<never>((_, reject) => (rejectOnStop = reject)) : undefined;
  // Raced below; marked handled here, so a rejection nobody races any more is not an unhandled one.
  stopped?.catch(() => undefined);
  const onStop = (): void => {
    const reason: unknown = limits.stop?.reason ?? new Error('shutdown stopped waiting for the handler');
    controller.abort(reason);
    rejectOnStop?.(reason);
  };
  if (limits.stop?.aborted) onStop();
  else limits.stop?.addEventListener('abort', onStop, { once: true });
  let timer: NodeJS.Timeout | undefined;
  try {
    const running = attempt(controller.signal);
    const racers: Promise<unknown>[] = [running];
    if (stopped) racers.push(stopped);
    const timeoutMs = limits.timeoutMs;
    if (timeoutMs !== undefined) {
      racers.push(
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            const error = new HandlerTimeoutError(handler, timeoutMs);
            controller.abort(error);
            reject(error);
          }, timeoutMs);
        }),
      );
    }
    await (racers.length === 1 ? running : Promise.race(racers));
  } finally {
    clearTimeout(timer);
    limits.stop?.removeEventListener('abort', onStop);
  }
}
