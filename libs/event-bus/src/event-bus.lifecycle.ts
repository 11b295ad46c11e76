import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { EventBus } from './event-bus.js';
import { EVENT_BUS_QUEUE_TOKEN } from './event-bus.providers.js';

/**
 * Starts the bus once every handler is registered (`onApplicationBootstrap` runs after every
 * `onModuleInit`, where the SubscriptionLoader registers them), and stops it in
 * `beforeApplicationShutdown`: workers drain their running handlers while TypeORM's DataSource,
 * destroyed in `onApplicationShutdown`, is still open. Then it closes the queue the module built
 * (the bus never closes a queue it was given).
 */
@Injectable()
export class EventBusLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    private readonly bus: EventBus,
    @Inject(EVENT_BUS_QUEUE_TOKEN) private readonly queue: Queue,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.initialize();
  }

  async beforeApplicationShutdown(): Promise<void> {
    try {
      await this.bus.close();
    } finally {
      await this.queue.close();
    }
  }
}
