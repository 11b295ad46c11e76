import {
  Injectable,
  Module,
  type BeforeApplicationShutdown,
  type DynamicModule,
  type LoggerService,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { EVENT_BUS_OPTIONS } from '../nest/event-bus.constants.js';
import { EventBus } from '../core/event-bus.js';
import { EventBusHealthIndicator } from '../nest/event-bus.health-indicator.js';
import { EventStore } from '../store/event-store.js';
import { OnEventMetadataAccessor } from '../nest/on-event-metadata.accessor.js';
import type { RetryPolicy } from '../subscriptions/retry-policy.js';
import { SubscriptionManager } from '../subscriptions/subscription-manager.js';
import { EmitterDecoratorCheck } from '../nest/emitter-decorator.check.js';
import { SubscriptionExplorer } from '../nest/subscription.explorer.js';
import { SubscriptionLoader } from '../nest/subscription.loader.js';
import { EventBusTestHarness } from './event-bus-test-harness.js';
import { InMemoryEventBus } from './in-memory-event-bus.js';
import { InMemoryEventStore } from '../store/in-memory/in-memory-event-store.js';

export interface EventBusTestingOptions {
  /** Wait the retry policies' delays between attempts instead of retrying at once. @default false */
  realDelays?: boolean;
  /** Retry policy of handlers that declare none. @default 3 attempts, exponential from 1 s */
  defaultRetry?: RetryPolicy;
  /** Largest accepted payload (and metadata), as serialized JSON bytes. @default 1048576 (1 MiB) */
  maxPayloadBytes?: number;
  /** Longest attempt of a handler that declares no `timeoutMs`, in ms (`HandlerTimeoutError`). @default none */
  handlerTimeoutMs?: number;
  /** Receives the routing table and handler failures; `false` for none. @default Nest's `Logger` */
  logger?: LoggerService | false;
  /** Register the module globally, as `EventBusModule` is. @default true */
  isGlobal?: boolean;
}

/** Starts the bus once every `@OnEvent` handler is registered, and closes it with the testing module. */
@Injectable()
class EventBusTestingLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(private readonly bus: InMemoryEventBus) {}

  onApplicationBootstrap(): Promise<void> {
    return this.bus.initialize();
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.bus.close();
  }
}

const SILENT: LoggerService = { log: () => undefined, error: () => undefined, warn: () => undefined };

/**
 * `EventBusModule` for unit tests: the same `EventBus` and `EventStore` tokens, the same `@OnEvent`
 * discovery, routing, validation and retry semantics, on an in-memory store and bus (no PostgreSQL,
 * no Redis), plus `EventBusTestHarness`. Handlers are found on `moduleRef.init()` (or `app.init()`).
 *
 *   const moduleRef = await Test.createTestingModule({
 *     imports: [EventBusTestingModule.forRoot()],
 *     providers: [OrderHandlers],
 *   }).compile();
 *   await moduleRef.init();
 */
@Module({})
export class EventBusTestingModule {
  static forRoot(options: EventBusTestingOptions = {}): DynamicModule {
    const logger = options.logger === false ? SILENT : options.logger;
    return {
      module: EventBusTestingModule,
      global: options.isGlobal ?? true,
      imports: [DiscoveryModule],
      providers: [
        // What the `@OnEvent` loader reads of the module options.
        { provide: EVENT_BUS_OPTIONS, useValue: { logger } },
        { provide: SubscriptionManager, useFactory: () => new SubscriptionManager({ logger }) },
        {
          provide: InMemoryEventStore,
          useFactory: () => new InMemoryEventStore({ maxPayloadBytes: options.maxPayloadBytes }),
        },
        { provide: EventStore, useExisting: InMemoryEventStore },
        {
          provide: InMemoryEventBus,
          useFactory: (eventStore: InMemoryEventStore, subscriptions: SubscriptionManager) =>
            new InMemoryEventBus({
              eventStore,
              subscriptions,
              defaultRetry: options.defaultRetry,
              realDelays: options.realDelays,
              handlerTimeoutMs: options.handlerTimeoutMs,
              logger,
            }),
          inject: [InMemoryEventStore, SubscriptionManager],
        },
        { provide: EventBus, useExisting: InMemoryEventBus },
        OnEventMetadataAccessor,
        SubscriptionExplorer,
        EmitterDecoratorCheck,
        SubscriptionLoader,
        EventBusTestingLifecycle,
        EventBusTestHarness,
        EventBusHealthIndicator,
      ],
      exports: [
        EventBus,
        EventStore,
        SubscriptionManager,
        InMemoryEventBus,
        InMemoryEventStore,
        EventBusTestHarness,
        EventBusHealthIndicator,
      ],
    };
  }
}
