import { Injectable, type Type } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import type { OnEventOptions } from './on-event.decorator.js';
import { EventBusConfigurationError } from '../shared/errors.js';
import { OnEventMetadataAccessor } from './on-event-metadata.accessor.js';

/** One `@OnEvent` method found in the application: plain data, registered by the loader. */
export interface OnEventHandlerDescriptor {
  /** Stable handler name: `options.name`, else `ClassName.methodName`. */
  readonly name: string;
  readonly patterns: readonly string[];
  readonly options: OnEventOptions;
  /** The provider (or controller) instance the method is called on. */
  readonly instance: object;
  readonly methodName: string;
  /** `ClassName.methodName`, for messages. */
  readonly origin: string;
}

/**
 * Finds `@OnEvent` methods on the application's providers and controllers. Returns data only.
 * Handlers need one long-lived instance: request-scoped and transient hosts are refused.
 */
@Injectable()
export class SubscriptionExplorer {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly accessor: OnEventMetadataAccessor,
  ) {}

  explore(): OnEventHandlerDescriptor[] {
    const wrappers = [...this.discovery.getProviders(), ...this.discovery.getControllers()];
    return wrappers.filter((wrapper) => !wrapper.isAlias).flatMap((wrapper) => this.exploreWrapper(wrapper));
  }

  private exploreWrapper(wrapper: InstanceWrapper): OnEventHandlerDescriptor[] {
    if (wrapper.isTransient || !wrapper.isDependencyTreeStatic()) {
      this.refuseIfHandlerHost(wrapper);
      return [];
    }
    const instance: unknown = wrapper.instance;
    if (typeof instance !== 'object' || instance === null) return [];
    const prototype = Object.getPrototypeOf(instance) as object | null;
    if (!prototype) return [];
    const className = (prototype.constructor as { name?: string } | undefined)?.name || String(wrapper.name);
    const descriptors: OnEventHandlerDescriptor[] = [];
    for (const methodName of this.scanner.getAllMethodNames(prototype)) {
      const origin = `${className}.${methodName}`;
      const metadata = this.accessor.getMetadata((instance as Record<string, unknown>)[methodName], origin);
      if (!metadata) continue;
      const name = metadata.options.name ?? origin;
      descriptors.push({ name, patterns: metadata.patterns, options: metadata.options, instance, methodName, origin });
    }
    return descriptors;
  }

  /** A request-scoped or transient class has no single instance to deliver to: fail start-up if it declares handlers. */
  private refuseIfHandlerHost(wrapper: InstanceWrapper): void {
    if (wrapper.isNotMetatype || !wrapper.metatype) return;
    const metatype = wrapper.metatype as Type;
    const prototype = metatype.prototype as object | undefined;
    if (!prototype) return;
    const scope = wrapper.isTransient ? 'transient' : 'request-scoped';
    for (const methodName of this.scanner.getAllMethodNames(prototype)) {
      const origin = `${metatype.name}.${methodName}`;
      if (!this.accessor.getMetadata((prototype as Record<string, unknown>)[methodName], origin)) continue;
      throw new EventBusConfigurationError(
        'OnEvent',
        `${origin} is an @OnEvent handler on a ${scope} provider. Events are delivered outside any request, ` +
          'to one long-lived instance: move the handler to a singleton provider (the default scope) and ' +
          'get request-specific services from there (e.g. ModuleRef.resolve with a context id).',
      );
    }
  }
}
