// Nest loads reflect-metadata too; importing it here lets a handler class be used without Nest (e.g. in a unit test).
import 'reflect-metadata';
import { ON_EVENT_METADATA } from './event-bus.constants.js';
import type { SubscribeOptions } from '../subscriptions/subscription.js';

/** Options of `@OnEvent`: they belong to the method, so stacked decorators must not contradict each other. */
export type OnEventOptions = SubscribeOptions;

/** One `@OnEvent(...)` as written on a method. */
export interface OnEventDeclaration {
  readonly patterns: readonly string[];
  readonly options: OnEventOptions;
}

/**
 * Marks a provider (or controller) method as an event handler, called as
 * `method(event: StoredEvent, context: EventContext)` with the provider instance as `this`.
 *
 * Stacking `@OnEvent` on one method merges the patterns into one handler (one call per event).
 * Patterns and options are checked at start-up, where the error can name `ClassName.methodName`.
 *
 * @example
 * ```ts
 * @OnEvent('workflow.node.*', { retry: { maxAttempts: 5, backoff: { type: 'exponential', delay: 500 } } })
 * async onNode(event: StoredEvent<NodePayload>, context: EventContext) { ... }
 * ```
 */
export function OnEvent(patterns: string | string[], options: OnEventOptions = {}): MethodDecorator {
  const declaration: OnEventDeclaration = Object.freeze({
    patterns: Object.freeze(typeof patterns === 'string' ? [patterns] : [...patterns]),
    options: Object.freeze({ ...options }),
  });
  return (target, key, descriptor) => {
    if (typeof descriptor.value !== 'function') {
      throw new TypeError(`@OnEvent goes on a method; ${target.constructor.name}.${String(key)} is not one`);
    }
    // Nest's SetMetadata would overwrite: append instead, so decorators stack. Decorators apply
    // bottom-up, so the new declaration goes first to keep the order in which they are written.
    const existing = (Reflect.getMetadata(ON_EVENT_METADATA, descriptor.value) ?? []) as OnEventDeclaration[];
    Reflect.defineMetadata(ON_EVENT_METADATA, [declaration, ...existing], descriptor.value);
    return descriptor;
  };
}
