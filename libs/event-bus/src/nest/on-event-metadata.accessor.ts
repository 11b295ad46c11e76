import { isDeepStrictEqual } from 'node:util';
import { Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { OnEventDeclaration, OnEventOptions } from './on-event.decorator.js';
import { EventBusConfigurationError, InvalidEventPatternError } from '../shared/errors.js';
import { ON_EVENT_METADATA } from './event-bus.constants.js';
import { validateRetryPolicy } from '../subscriptions/backoff.js';
import { validateHandlerTimeout } from '../subscriptions/handler-timeout.js';
import { eventPatternProblem } from '../subscriptions/event-pattern.js';

/** The `@OnEvent` declarations of one method, merged into one handler and checked. */
export interface OnEventMetadata {
  readonly patterns: readonly string[];
  readonly options: OnEventOptions;
}

/** Every option of `@OnEvent`, as a record so that an option added to the type but not here fails to compile. */
const OPTIONS: Record<keyof OnEventOptions, true> = {
  retry: true,
  name: true,
  replay: true,
  timeoutMs: true,
  ordered: true,
  startFrom: true,
  onExhausted: true,
  transactional: true,
};
const OPTION_KEYS: ReadonlySet<string> = new Set(Object.keys(OPTIONS));

/**
 * Reads `@OnEvent` metadata through Nest's `Reflector`. Stacked decorators become one handler:
 * their patterns are merged, and each option must be given once or with the same value every time
 * (options belong to the method, not to a pattern). Every error names `ClassName.methodName`.
 */
@Injectable()
export class OnEventMetadataAccessor {
  constructor(private readonly reflector: Reflector) {}

  /** `undefined` when the method carries no `@OnEvent`. `where` is `ClassName.methodName`. */
  getMetadata(method: unknown, where: string): OnEventMetadata | undefined {
    if (typeof method !== 'function') return undefined;
    const declarations = this.reflector.get<OnEventDeclaration[] | undefined>(ON_EVENT_METADATA, method);
    if (!declarations?.length) return undefined;
    return { patterns: mergePatterns(declarations, where), options: mergeOptions(declarations, where) };
  }
}

function mergePatterns(declarations: readonly OnEventDeclaration[], where: string): string[] {
  const patterns = [...new Set(declarations.flatMap((declaration) => declaration.patterns))];
  if (patterns.length === 0) {
    throw new EventBusConfigurationError(
      'pattern',
      `@OnEvent on ${where} needs at least one pattern, e.g. 'workflow.*'`,
    );
  }
  for (const pattern of patterns) {
    const problem = eventPatternProblem(pattern);
    if (problem) throw new InvalidEventPatternError(String(pattern), `${problem} (in @OnEvent on ${where})`);
  }
  return patterns;
}

function mergeOptions(declarations: readonly OnEventDeclaration[], where: string): OnEventOptions {
  const merged: Record<string, unknown> = {};
  for (const { options } of declarations) {
    for (const [key, value] of Object.entries(options)) {
      if (!OPTION_KEYS.has(key)) {
        throw new EventBusConfigurationError(
          key,
          `@OnEvent on ${where} has no option "${key}" (known: ${[...OPTION_KEYS].join(', ')})`,
        );
      }
      if (value === undefined) continue;
      if (key in merged && !isDeepStrictEqual(merged[key], value)) {
        throw new EventBusConfigurationError(
          key,
          `the stacked @OnEvent decorators on ${where} disagree on "${key}". Options belong to the method: ` +
            'give each option once, or the same value on every decorator.',
        );
      }
      merged[key] = value;
    }
  }
  const options = merged as OnEventOptions;
  if (options.replay !== undefined && typeof options.replay !== 'boolean') {
    throw new EventBusConfigurationError('replay', `@OnEvent on ${where}: replay must be true or false`);
  }
  if (options.transactional !== undefined && typeof options.transactional !== 'boolean') {
    throw new EventBusConfigurationError('transactional', `@OnEvent on ${where}: transactional must be true or false`);
  }
  if (options.retry !== undefined) validateRetryPolicy(options.retry, `${where}.retry`);
  if (options.timeoutMs !== undefined) validateHandlerTimeout(options.timeoutMs, `${where}.timeoutMs`);
  return options;
}
