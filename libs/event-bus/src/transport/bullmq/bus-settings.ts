import type { RelayOptions } from '../../core/event-bus.options.js';
import type { RetryPolicy } from '../../subscriptions/retry-policy.js';
import { DEFAULT_RELAY_SETTINGS } from '../outbox/outbox-relay.js';
import type { OutboxRelaySettings } from '../outbox/outbox-relay.js';

/** The bus's options with their defaults applied, as its parts use them. */
export interface BusSettings {
  queueName: string;
  concurrency: number;
  /** Jobs a worker takes beyond `concurrency` (see handler-slots.ts). */
  prefetch: number;
  defaultRetry: RetryPolicy;
  /** Consume the queue in this process. */
  worker: boolean;
  enqueueTimeoutMs: number;
  /** Most events one event job carries (DESIGN.md 6.4). */
  jobBatchSize: number;
  /** Timeout of one attempt of a handler that declares none, in ms (none when undefined). */
  handlerTimeoutMs: number | undefined;
  /** How long `close()` waits for running handlers (see `EventBusCoreOptions.shutdownTimeoutMs`). */
  shutdownTimeoutMs: number;
  /** How long one statement the bus runs on the store's database waits for PostgreSQL. */
  storeTimeoutMs: number;
  /** Undefined when the relay is turned off. */
  relay: RelaySettings | undefined;
}

export interface RelaySettings extends OutboxRelaySettings {
  /** Period of the check for jobs the queue lost, in ms. */
  lostJobCheckIntervalMs: number;
}

export const DEFAULT_LOST_JOB_CHECK_INTERVAL_MS = 30_000;

/** `relay: false` (or `{ enabled: false }`) turns it off; `true` or nothing means the defaults. */
export function resolveRelaySettings(option: RelayOptions | boolean | undefined): RelaySettings | undefined {
  if (option === false) return undefined;
  const given: RelayOptions = option === true || option === undefined ? {} : option;
  if (given.enabled === false) return undefined;
  return {
    intervalMs: given.intervalMs ?? DEFAULT_RELAY_SETTINGS.intervalMs,
    batchSize: given.batchSize ?? DEFAULT_RELAY_SETTINGS.batchSize,
    graceMs: given.graceMs ?? DEFAULT_RELAY_SETTINGS.graceMs,
    listen: DEFAULT_RELAY_SETTINGS.listen,
    lostJobCheckIntervalMs: given.lostJobCheckIntervalMs ?? DEFAULT_LOST_JOB_CHECK_INTERVAL_MS,
  };
}
