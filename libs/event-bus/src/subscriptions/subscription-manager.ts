import { randomUUID } from 'node:crypto';
import { Logger, type LoggerService } from '@nestjs/common';
import { EventBusConfigurationError } from '../shared/errors.js';
import type { StoredEvent } from '../events/domain-event.js';
import { validateRetryPolicy } from './backoff.js';
import { compileEventPattern, type EventPatternMatcher } from './event-pattern.js';
import type { RetryPolicy } from './retry-policy.js';
import { validateHandlerTimeout } from './handler-timeout.js';
import { describeValue } from '../shared/describe-value.js';
import type { EventContext, EventHandler, SubscribeOptions, Subscription } from './subscription.js';

/** Where a handler came from: an `@OnEvent` method, or `subscribe()` at run time. */
export type HandlerSource = 'decorator' | 'runtime';

/** A handler as the worker and replay see it. */
export interface RegisteredHandler {
  /** Subscription id. */
  readonly id: string;
  /** Stable handler name: it keys failure records and retry job ids across processes. */
  readonly name: string;
  readonly patterns: readonly string[];
  /** `undefined` → the bus's `defaultRetry`. */
  readonly retry: RetryPolicy | undefined;
  /** Takes part in replays. */
  readonly replay: boolean;
  /** Longest one attempt may run, in ms (`undefined`: the bus's `handlerTimeoutMs`, if any). */
  readonly timeoutMs: number | undefined;
  /** Runs in a transaction of the store's database, once per event (`context.manager`). */
  readonly transactional: boolean;
  readonly source: HandlerSource;
  /** Set for an ordered handler (fed by the log, not by queue jobs). */
  readonly ordered: OrderedSettings | undefined;
  /** Calls the handler; always returns a promise (sync throws become rejections). */
  invoke(event: StoredEvent, context: EventContext): Promise<unknown>;
}

/** How an ordered handler starts and what an exhausted event does to its key. */
export interface OrderedSettings {
  readonly startFrom: 'now' | 'beginning';
  readonly onExhausted: 'park' | 'block';
}

export interface AddHandlerOptions extends SubscribeOptions {
  /** @default 'runtime' */
  source?: HandlerSource;
  /** Where the handler is declared (e.g. `OrderHandlers.onPlaced`), for error messages only. */
  origin?: string;
}

interface Entry {
  readonly handler: RegisteredHandler;
  readonly origin: string;
  readonly matchers: readonly EventPatternMatcher[];
}

/** Handler names end up in BullMQ job ids, where ':' separates Redis keys. */
const HANDLER_NAME = /^[^\s:]{1,200}$/;
/** A plain function name that can serve as a handler name as is. */
const FUNCTION_NAME = /^[A-Za-z_$][\w$]*$/;
/** Bound on the per-type route cache, so a flood of distinct event types cannot grow memory without end. */
const MAX_CACHED_TYPES = 10_000;

/**
 * The registry of handlers: which handlers an event type reaches, by handler name and by pattern.
 * Used by the worker (delivery and retries) and by replay. One instance per bus; no static state.
 */
export class SubscriptionManager {
  private readonly logger: LoggerService;
  private readonly entries = new Map<string, Entry>();
  private readonly byName = new Map<string, Entry>();
  private readonly routes = new Map<string, readonly RegisteredHandler[]>();

  constructor(options: { logger?: LoggerService } = {}) {
    this.logger = options.logger ?? new Logger(SubscriptionManager.name);
  }

  /**
   * Registers a handler for one or more patterns. Validates the patterns, the retry policy and the name.
   * Without a `name`, runtime handlers are named after their function, else `patterns.join('|')#n`
   * (n counting from 1 in registration order), so every process names them alike.
   */
  add<P = unknown>(
    patterns: string | string[],
    handler: EventHandler<P>,
    options: AddHandlerOptions = {},
  ): Subscription {
    const list = normalizePatterns(patterns);
    const matchers = list.map(compileEventPattern);
    if (typeof handler !== 'function') {
      throw new EventBusConfigurationError('handler', `a handler must be a function, got ${typeof handler}`);
    }
    const origin = options.origin ?? (handler.name ? `function ${handler.name}` : 'an anonymous function');
    const name = options.name === undefined ? this.defaultName(handler.name, list) : checkName(options.name, origin);
    const existing = this.byName.get(name);
    if (existing) {
      throw new EventBusConfigurationError(
        'name',
        `handler name "${name}" is taken twice: by ${existing.origin} (${existing.handler.patterns.join(', ')}) ` +
          `and by ${origin} (${list.join(', ')}). Handler names key failure records and retry jobs: give one of them another name.`,
      );
    }
    const retry = options.retry === undefined ? undefined : validateRetryPolicy(options.retry, `retry[${name}]`);
    const call = handler as EventHandler;
    const registered: RegisteredHandler = Object.freeze({
      id: randomUUID(),
      name,
      patterns: Object.freeze(list),
      retry,
      replay: options.replay ?? true,
      timeoutMs:
        options.timeoutMs === undefined ? undefined : validateHandlerTimeout(options.timeoutMs, `timeoutMs[${name}]`),
      transactional: checkFlag(options.transactional, `transactional[${name}]`),
      source: options.source ?? 'runtime',
      ordered: orderedSettings(options, name),
      invoke: async (event: StoredEvent, context: EventContext) => call(event, context),
    });
    const entry: Entry = { handler: registered, origin, matchers };
    this.entries.set(registered.id, entry);
    this.byName.set(name, entry);
    this.routes.clear();
    this.logger.debug?.(`Handler ${name} subscribed to ${list.join(', ')}`);
    return { id: registered.id, patterns: registered.patterns, handler: name };
  }

  /** Removes a subscription (or the one with this id). Resolves true when it was registered. */
  remove(subscription: Subscription | string): boolean {
    const id = typeof subscription === 'string' ? subscription : subscription.id;
    const entry = this.entries.get(id);
    if (!entry) return false;
    this.entries.delete(id);
    this.byName.delete(entry.handler.name);
    this.routes.clear();
    this.logger.debug?.(`Handler ${entry.handler.name} unsubscribed`);
    return true;
  }

  /**
   * The handlers queue deliveries and replays of an event of this type reach, in registration order;
   * cached per type until the next add/remove. Ordered handlers are not among them: the log feeds those.
   */
  handlersFor(eventType: string): readonly RegisteredHandler[] {
    const cached = this.routes.get(eventType);
    if (cached) return cached;
    const handlers: RegisteredHandler[] = [];
    for (const { handler, matchers } of this.entries.values()) {
      if (!handler.ordered && matchers.some((matcher) => matcher.matches(eventType))) handlers.push(handler);
    }
    if (this.routes.size >= MAX_CACHED_TYPES) this.routes.clear();
    const frozen = Object.freeze(handlers);
    this.routes.set(eventType, frozen);
    return frozen;
  }

  /** The handler with this name. */
  get(name: string): RegisteredHandler | undefined {
    return this.byName.get(name)?.handler;
  }

  /** The ordered handlers, in registration order. */
  orderedHandlers(): RegisteredHandler[] {
    return this.all().filter((handler) => handler.ordered);
  }

  /** Every handler, in registration order. */
  all(): readonly RegisteredHandler[] {
    return [...this.entries.values()].map((entry) => entry.handler);
  }

  /** The routing table as text, for one start-up log line. */
  describeRoutes(): string {
    if (this.entries.size === 0) return 'No event handlers registered.';
    const lines = this.all().map((handler) => {
      const flags = [handler.source, `retry: ${describeRetry(handler.retry)}`];
      if (handler.ordered)
        flags.push(`ordered from ${handler.ordered.startFrom}, ${handler.ordered.onExhausted} when exhausted`);
      if (!handler.replay) flags.push('no replay');
      if (handler.transactional) flags.push('transactional');
      return `  ${handler.patterns.join(', ')} -> ${handler.name} (${flags.join('; ')})`;
    });
    return [`Event routes (${lines.length} handler${lines.length === 1 ? '' : 's'}):`, ...lines].join('\n');
  }

  /** `fn`, then `fn#2`, `fn#3`… for a named function; `a.*|b.**#1`, `#2`… for an anonymous one. */
  private defaultName(functionName: string, patterns: readonly string[]): string {
    const named = FUNCTION_NAME.test(functionName);
    if (named && !this.byName.has(functionName)) return functionName;
    const base = named ? functionName : patterns.join('|');
    let n = named ? 2 : 1;
    while (this.byName.has(`${base}#${n}`)) n += 1;
    return `${base}#${n}`;
  }
}

function normalizePatterns(patterns: string | string[]): string[] {
  const list = typeof patterns === 'string' ? [patterns] : patterns;
  if (!Array.isArray(list) || list.length === 0) {
    throw new EventBusConfigurationError('pattern', 'a handler needs at least one pattern, e.g. "workflow.*"');
  }
  return [...new Set(list)];
}

function checkName(name: unknown, origin: string): string {
  if (typeof name !== 'string' || !HANDLER_NAME.test(name)) {
    throw new EventBusConfigurationError(
      'name',
      `the handler name of ${origin} must be 1 to 200 characters without spaces or ':', got ${typeof name === 'string' ? `'${name}'` : typeof name}`,
    );
  }
  return name;
}

/** A boolean option: `undefined` is false. */
function checkFlag(value: unknown, option: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') {
    throw new EventBusConfigurationError(option, `must be true or false, got ${describeValue(value)}`);
  }
  return value;
}

function checkChoice<T extends string>(value: unknown, choices: readonly T[], fallback: T, option: string): T {
  if (value === undefined) return fallback;
  if (choices.includes(value as T)) return value as T;
  throw new EventBusConfigurationError(
    option,
    `must be ${choices.map((choice) => `'${choice}'`).join(' or ')}, got ${typeof value === 'string' ? `'${value}'` : typeof value}`,
  );
}

/** The ordered settings, or `undefined` for a queue-fed handler (which must not set them). */
function orderedSettings(options: SubscribeOptions, name: string): OrderedSettings | undefined {
  const ordered = checkFlag(options.ordered, `ordered[${name}]`);
  if (!ordered) {
    for (const option of ['startFrom', 'onExhausted'] as const) {
      if (options[option] !== undefined) {
        throw new EventBusConfigurationError(
          `${option}[${name}]`,
          'applies to ordered handlers only: add ordered: true',
        );
      }
    }
    return undefined;
  }
  return Object.freeze({
    startFrom: checkChoice(options.startFrom, ['now', 'beginning'] as const, 'now', `startFrom[${name}]`),
    onExhausted: checkChoice(options.onExhausted, ['park', 'block'] as const, 'park', `onExhausted[${name}]`),
  });
}

function describeRetry(retry: RetryPolicy | undefined): string {
  if (!retry) return 'default';
  const { maxAttempts, backoff } = retry;
  if (typeof backoff === 'function') return `${maxAttempts} attempts, custom backoff`;
  const cap = backoff.maxDelay === undefined ? '' : ` up to ${backoff.maxDelay} ms`;
  const jitter = backoff.jitter ? `, jitter ${backoff.jitter}` : '';
  return `${maxAttempts} attempts, ${backoff.type} ${backoff.delay} ms${cap}${jitter}`;
}
