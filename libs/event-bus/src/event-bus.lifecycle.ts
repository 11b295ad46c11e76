import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type LoggerService,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { Queue } from 'bullmq';
import { EVENT_BUS_OPTIONS } from './event-bus.constants.js';
import { EventBus } from './event-bus.js';
import { EVENT_BUS_DEFAULTS, type EventBusCoreOptions } from './event-bus.options.js';
import { EVENT_BUS_QUEUE_TOKEN } from './event-bus.providers.js';
import { closeQueueWithin } from './transport/bullmq/bounded-close.js';

/**
 * Starts the bus once every handler is registered (`onApplicationBootstrap` runs after every
 * `onModuleInit`, where the SubscriptionLoader registers them), and stops it in
 * `beforeApplicationShutdown`: workers drain their running handlers while TypeORM's DataSource,
 * destroyed in `onApplicationShutdown`, is still open. Then it closes the queue the module built
 * (the bus never closes a queue it was given) — within the bus's queue deadline, so an application
 * whose Redis does not answer still shuts down.
 */
@Injectable()
export class EventBusLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger: LoggerService;
  private readonly queueTimeoutMs: number;

  constructor(
    private readonly bus: EventBus,
    @Inject(EVENT_BUS_QUEUE_TOKEN) private readonly queue: Queue,
    @Inject(EVENT_BUS_OPTIONS) options: EventBusCoreOptions,
  ) {
    this.logger = options.logger ?? new Logger('EventBus');
    this.queueTimeoutMs = options.enqueueTimeoutMs ?? EVENT_BUS_DEFAULTS.enqueueTimeoutMs;
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.initialize();
  }

  async beforeApplicationShutdown(): Promise<void> {
    try {
      await this.bus.close();
    } finally {
      await closeQueueWithin(this.queue, this.queueTimeoutMs, this.logger);
    }
  }
}
