import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { EventBusLifecycle } from './event-bus.lifecycle.js';
import { ConfigurableModuleClass } from './event-bus.module-definition.js';
import { EmitterDecoratorCheck } from './emitter-decorator.check.js';
import { OnEventMetadataAccessor } from './on-event-metadata.accessor.js';
import { SubscriptionExplorer } from './subscription.explorer.js';
import { SubscriptionLoader } from './subscription.loader.js';

/**
 * Durable domain events for a Nest app: `EventBusModule.forRoot(options)` or `forRootAsync(...)`.
 * Provides and exports `EventBus`, `EventStore` and `SubscriptionManager`; finds `@OnEvent` handlers.
 * Wiring only: see event-bus.module-definition.ts and event-bus.providers.ts.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    OnEventMetadataAccessor,
    SubscriptionExplorer,
    EmitterDecoratorCheck,
    SubscriptionLoader,
    EventBusLifecycle,
  ],
})
export class EventBusModule extends ConfigurableModuleClass {}
