import { Injectable } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';

/**
 * The metadata key of `@nestjs/event-emitter`'s `@OnEvent`. Read as a string: the library does not
 * depend on that package, and its key has been this string in every version.
 */
const EMITTER_LISTENER_METADATA = 'EVENT_LISTENER_METADATA';

/** Providers that only `EventEmitterModule` registers: with one of them, the emitter's `@OnEvent` works. */
const EMITTER_PROVIDERS: ReadonlySet<string> = new Set(['EventEmitter2', 'EventSubscribersLoader']);

/**
 * Finds methods decorated with `@nestjs/event-emitter`'s `@OnEvent` in an app that has no
 * `EventEmitterModule`. Both libraries name their decorator `OnEvent`, so an editor's auto-import
 * can pick the wrong one; the method is then never called, and nothing else would say so.
 */
@Injectable()
export class EmitterDecoratorCheck {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
  ) {}

  /** `ClassName.methodName` of each such method; empty when the app has the emitter module. */
  findOrphanedEmitterHandlers(): string[] {
    const wrappers = [...this.discovery.getProviders(), ...this.discovery.getControllers()];
    if (wrappers.some(isEmitterProvider)) return [];
    return wrappers.filter((wrapper) => !wrapper.isAlias).flatMap((wrapper) => this.emitterHandlersOf(wrapper));
  }

  private emitterHandlersOf(wrapper: InstanceWrapper): string[] {
    // The metatype, not the instance: request-scoped and transient providers have no instance here.
    const metatype = wrapper.isNotMetatype ? undefined : (wrapper.metatype as { prototype?: unknown; name?: string });
    const prototype = metatype?.prototype;
    if (typeof prototype !== 'object' || prototype === null) return [];
    return this.scanner
      .getAllMethodNames(prototype)
      .filter((methodName) => {
        const method = (prototype as Record<string, unknown>)[methodName];
        return typeof method === 'function' && Reflect.getMetadata(EMITTER_LISTENER_METADATA, method) !== undefined;
      })
      .map((methodName) => `${metatype?.name ?? String(wrapper.name)}.${methodName}`);
  }
}

function isEmitterProvider(wrapper: InstanceWrapper): boolean {
  const token = wrapper.token;
  const name = typeof token === 'function' ? token.name : typeof token === 'string' ? token : undefined;
  return name !== undefined && EMITTER_PROVIDERS.has(name);
}
