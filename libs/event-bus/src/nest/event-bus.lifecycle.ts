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
import { EventBus } from '../core/event-bus.js';
import { EVENT_BUS_DEFAULTS, type EventBusCoreOptions } from '../core/event-bus.options.js';
import { EVENT_BUS_QUEUE_TOKEN } from './event-bus.providers.js';
import { closeQueueWithin } from '../transport/bullmq/queue/bounded-close.js';

/** How long after start-up the shutdown hooks are looked for. */
const SHUTDOWN_HOOKS_CHECK_DELAY_MS = 250;

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
  private readonly consuming: boolean;

  constructor(
    private readonly bus: EventBus,
    @Inject(EVENT_BUS_QUEUE_TOKEN) private readonly queue: Queue,
    @Inject(EVENT_BUS_OPTIONS) options: EventBusCoreOptions,
  ) {
    this.logger = options.logger ?? new Logger('EventBus');
    this.queueTimeoutMs = options.enqueueTimeoutMs ?? EVENT_BUS_DEFAULTS.enqueueTimeoutMs;
    this.consuming = options.worker ?? EVENT_BUS_DEFAULTS.worker;
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.initialize();
    // Looked at a moment after start-up: `NestFactory.createApplicationContext()` bootstraps before it
    // resolves, so its caller can enable the hooks only afterwards.
    if (this.consuming) setTimeout(() => this.warnUnlessShutdownIsHandled(), SHUTDOWN_HOOKS_CHECK_DELAY_MS).unref();
  }

  /**
   * `app.enableShutdownHooks()` (or the app's own handler that calls `app.close()`) listens for
   * SIGTERM on `process`; Nest keeps no public flag, and the listener is what matters anyway. Without
   * one, SIGTERM ends the process at once and `beforeApplicationShutdown` never runs.
   */
  private warnUnlessShutdownIsHandled(): void {
    if (process.listenerCount('SIGTERM') > 0) {
      this.logger.debug?.('SIGTERM is handled: running handlers finish before the process ends.');
      return;
    }
    this.logger.warn(
      'This process consumes events, but nothing handles SIGTERM: call app.enableShutdownHooks() in main.ts ' +
        '(before app.listen()). Without it, a stop or restart kills running handlers mid-way; their events stay ' +
        "'processing' until their job's lock expires (workerOptions.lockDuration, 30 s by default), then " +
        'another worker takes the job up again and runs the handlers that had not finished once more.',
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    try {
      await this.bus.close();
    } finally {
      await closeQueueWithin(this.queue, this.queueTimeoutMs, this.logger);
    }
  }
}
