import { Inject, Injectable, Logger, type LoggerService, type OnModuleInit } from '@nestjs/common';
import { EVENT_BUS_OPTIONS } from './event-bus.constants.js';
import type { EventBusCoreOptions } from '../core/event-bus.options.js';
import type { StoredEvent } from '../events/domain-event.js';
import type { EventContext } from '../subscriptions/subscription.js';
import { EmitterDecoratorCheck } from './emitter-decorator.check.js';
import { SubscriptionExplorer } from './subscription.explorer.js';
import { SubscriptionManager } from '../subscriptions/subscription-manager.js';

/**
 * Registers the discovered `@OnEvent` methods in the SubscriptionManager once every provider
 * exists (`onModuleInit`), before the bus starts consuming (`onApplicationBootstrap`), and logs
 * the routing table once.
 */
@Injectable()
export class SubscriptionLoader implements OnModuleInit {
  private readonly logger: LoggerService;

  constructor(
    private readonly explorer: SubscriptionExplorer,
    private readonly subscriptions: SubscriptionManager,
    private readonly emitterCheck: EmitterDecoratorCheck,
    @Inject(EVENT_BUS_OPTIONS) options: EventBusCoreOptions,
  ) {
    this.logger = options.logger ?? new Logger('EventBus');
  }

  onModuleInit(): void {
    for (const descriptor of this.explorer.explore()) {
      const { instance, methodName } = descriptor;
      // Looked up at call time, so a spy installed on the instance in a test sees the calls.
      const invoke = (event: StoredEvent, context: EventContext): unknown =>
        Reflect.apply((instance as Record<string, unknown>)[methodName] as (...args: unknown[]) => unknown, instance, [
          event,
          context,
        ]);
      this.subscriptions.add([...descriptor.patterns], invoke, {
        ...descriptor.options,
        name: descriptor.name,
        source: 'decorator',
        origin: descriptor.origin,
      });
    }
    this.logger.log(this.subscriptions.describeRoutes());
    this.warnAboutEmitterHandlers();
  }

  private warnAboutEmitterHandlers(): void {
    const methods = this.emitterCheck.findOrphanedEmitterHandlers();
    if (methods.length === 0) return;
    this.logger.warn(
      `${methods.join(', ')} ${methods.length === 1 ? 'is' : 'are'} decorated with @OnEvent from ` +
        "'@nestjs/event-emitter', but this app has no EventEmitterModule, so nothing will call " +
        `${methods.length === 1 ? 'it' : 'them'}. For durable events delivered by the event bus, import ` +
        "OnEvent from 'nestjs-durable-events' instead; for in-process events, import EventEmitterModule.forRoot().",
    );
  }
}
