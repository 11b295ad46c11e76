import { EventBusConfigurationError } from '../shared/errors.js';
import { MAX_JOB_BATCH_SIZE, type EventBusCoreOptions } from './event-bus.options.js';
import { validateRetryPolicy } from '../subscriptions/backoff.js';
import { validateHandlerTimeout } from '../subscriptions/handler-timeout.js';
import { describeValue } from '../shared/describe-value.js';
import { checkMetricsOption } from '../observability/metrics-options.js';

/**
 * Checks every option of `EventBusCoreOptions` once, at start-up, and fails with an
 * `EventBusConfigurationError` naming the option (`concurrency`, `connection.port`, `relay.intervalMs`…).
 * Unknown keys are refused too: a misspelt option would otherwise be ignored without a word.
 */
export function validateEventBusOptions<T extends EventBusCoreOptions>(options: T): T {
  if (!isObject(options)) fail('options', 'must be an object', options);
  for (const [key, value] of Object.entries(options)) {
    const check = CHECKS[key];
    if (!check) failUnknown(key, `is not an option of the event bus (known: ${Object.keys(CHECKS).join(', ')})`);
    if (value !== undefined) check(value, key);
  }
  return options;
}

type Check = (value: unknown, option: string) => void;

const CHECKS: Record<string, Check> = {
  connection: checkConnection,
  queueName: (value, option) => {
    checkNonEmptyString(value, option);
    // BullMQ joins the prefix and the queue name with ':' into Redis keys.
    if ((value as string).includes(':')) fail(option, "must not contain ':'", value);
  },
  prefix: checkNonEmptyString,
  concurrency: checkPositiveInteger,
  prefetch: checkNonNegativeInteger,
  defaultRetry: (value, option) => validateRetryPolicy(value, option),
  worker: checkBoolean,
  backend: (value, option) => {
    if (value !== 'redis' && value !== 'postgres') fail(option, "must be 'redis' or 'postgres'", value);
  },
  postgres: (value, option) =>
    checkFields(value, option, {
      connectionString: (v, o) => checkUrl(v, o, ['postgres:', 'postgresql:']),
      schema: (v, o) => {
        if (typeof v !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(v)) {
          fail(o, 'must be a PostgreSQL identifier (letters, digits, _; not starting with a digit)', v);
        }
      },
    }),
  maxPayloadBytes: checkPositiveInteger,
  jobBatchSize: (value, option) => {
    checkPositiveInteger(value, option);
    if ((value as number) > MAX_JOB_BATCH_SIZE) fail(option, `must be at most ${MAX_JOB_BATCH_SIZE}`, value);
  },
  handlerTimeoutMs: (value, option) => validateHandlerTimeout(value, option),
  orderedTakeoverMs: (value, option) => {
    checkPositiveInteger(value, option);
    if ((value as number) < 1000)
      fail(option, 'must be at least 1000 ms (leases are renewed three times per period)', value);
  },
  workerOptions: checkWorkerOptions,
  enqueueTimeoutMs: checkPositiveInteger,
  storeTimeoutMs: checkPositiveInteger,
  shutdownTimeoutMs: checkNonNegativeInteger,
  relay: (value, option) => {
    if (typeof value === 'boolean') return;
    checkFields(value, option, {
      enabled: checkBoolean,
      intervalMs: checkPositiveInteger,
      batchSize: checkPositiveInteger,
      graceMs: checkNonNegativeInteger,
      lostJobCheckIntervalMs: checkPositiveInteger,
    });
  },
  metrics: checkMetricsOption,
  logger: (value, option) => {
    const logger = value as Record<string, unknown>;
    if (!isObject(value) || !['log', 'error', 'warn'].every((method) => typeof logger[method] === 'function')) {
      fail(option, 'must be a LoggerService (an object with log, error and warn methods)', value);
    }
  },
};

/** A Redis URL string, `{ url }`, or `{ host, port, password, … }`. */
function checkConnection(value: unknown, option: string): void {
  if (typeof value === 'string') return checkUrl(value, option, ['redis:', 'rediss:']);
  if (!isObject(value)) {
    fail(option, "must be a Redis URL ('redis://host:6379') or { url } or { host, port, password }", value);
  }
  checkFields(value, option, {
    url: (v, o) => checkUrl(v, o, ['redis:', 'rediss:']),
    host: checkNonEmptyString,
    port: (v, o) => {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535) {
        fail(o, 'must be an integer port number from 1 to 65535', v);
      }
    },
    username: checkString,
    password: (v, o) => {
      // Never echo a password, not even a mistyped one.
      if (typeof v !== 'string') throw new EventBusConfigurationError(o, `must be a string, got ${typeof v}`);
    },
    db: checkNonNegativeInteger,
    tls: (v, o) => {
      if (typeof v !== 'boolean' && !isObject(v)) fail(o, 'must be true, false or an object of TLS options', v);
    },
  });
}

/** BullMQ worker settings pass through; the ones the bus owns are refused rather than silently overridden. */
function checkWorkerOptions(value: unknown, option: string): void {
  if (!isObject(value)) fail(option, 'must be an object of BullMQ worker settings', value);
  const owned: Record<string, string> = {
    connection: 'connection',
    prefix: 'prefix',
    concurrency: 'concurrency',
    autorun: 'worker',
  };
  for (const key of Object.keys(value)) {
    if (key in owned) failUnknown(`${option}.${key}`, `is set by the bus: use the top-level "${owned[key]}" option`);
  }
  const { lockDuration, stalledInterval, maxStalledCount } = value;
  if (lockDuration !== undefined) checkPositiveInteger(lockDuration, `${option}.lockDuration`);
  if (stalledInterval !== undefined) checkPositiveInteger(stalledInterval, `${option}.stalledInterval`);
  if (maxStalledCount !== undefined) checkNonNegativeInteger(maxStalledCount, `${option}.maxStalledCount`);
}

function checkFields(value: unknown, option: string, checks: Record<string, Check>): void {
  if (!isObject(value)) fail(option, `must be an object { ${Object.keys(checks).join(', ')} }`, value);
  for (const [key, field] of Object.entries(value)) {
    const check = checks[key];
    if (!check) failUnknown(`${option}.${key}`, `is not a known setting (known: ${Object.keys(checks).join(', ')})`);
    if (field !== undefined) check(field, `${option}.${key}`);
  }
}

function checkUrl(value: unknown, option: string, protocols: readonly string[]): void {
  const expected = protocols.map((protocol) => `${protocol}//`).join(' or ');
  if (typeof value !== 'string') fail(option, `must be a URL starting with ${expected}`, value);
  let protocol: string;
  try {
    protocol = new URL(value).protocol;
  } catch {
    // Never echo the URL: it may hold a password.
    throw new EventBusConfigurationError(option, `is not a valid URL (expected ${expected}…)`);
  }
  if (!protocols.includes(protocol)) {
    throw new EventBusConfigurationError(option, `must be a URL starting with ${expected}, got ${protocol}//…`);
  }
}

function checkString(value: unknown, option: string): void {
  if (typeof value !== 'string') fail(option, 'must be a string', value);
}

function checkNonEmptyString(value: unknown, option: string): void {
  if (typeof value !== 'string' || value.trim() === '') fail(option, 'must be a non-empty string', value);
}

function checkBoolean(value: unknown, option: string): void {
  if (typeof value !== 'boolean') fail(option, 'must be true or false', value);
}

function checkPositiveInteger(value: unknown, option: string): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    fail(option, 'must be a positive integer', value);
  }
}

function checkNonNegativeInteger(value: unknown, option: string): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    fail(option, 'must be an integer >= 0', value);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(option: string, message: string, value: unknown): never {
  throw new EventBusConfigurationError(option, `${message}, got ${describeValue(value)}`);
}

/**
 * A key the bus does not know (or does not take there) is named, its value never shown: a misspelt
 * `connection.pasword` or a `redisPassword` holds a secret.
 */
function failUnknown(option: string, message: string): never {
  throw new EventBusConfigurationError(option, message);
}
