import type { LoggerService } from '@nestjs/common';
import type { EventBusReadiness, FailedDeliveryFilter } from '../../core/event-bus.js';
import type { DispatchOptions, EventTransport } from '../../core/ports/event-transport.js';
import type { TransportHealth, TransportHealthLimits } from '../../core/ports/transport-health.js';
import type { StoredEvent } from '../../events/domain-event.js';
import type { DeliveryLedger } from '../../core/ports/delivery-ledger.js';
import type { SubscriptionManager } from '../../subscriptions/subscription-manager.js';
import type { EventBusOptions } from './bullmq-event-bus.options.js';
import type { BusSettings } from './bus-settings.js';
import { BusRuntime } from './bus-runtime.js';
import type { QueueBackend } from './queue/queue-backend.js';
import { EnqueueFailedError } from './queue/event-enqueuer.js';
import type { EventBusInstruments } from '../../observability/event-bus-instruments.js';

export interface BullMQEventTransportDeps {
  options: Pick<EventBusOptions, 'queue' | 'workerOptions'>;
  backend: QueueBackend;
  settings: BusSettings;
  ledger: DeliveryLedger;
  subscriptions: SubscriptionManager;
  logger: LoggerService;
  /** The bus's metrics, passed to the worker. @default none */
  instruments?: EventBusInstruments;
}

/**
 * The `EventTransport` on BullMQ, Redis or PostgreSQL backend: one job per event, a job per failing
 * handler, the outbox relay and lost-job recovery. Each `start` builds the running parts afresh
 * (bus-runtime.ts), so a failed start can be retried.
 */
export class BullMQEventTransport implements EventTransport {
  /** Every worker of the queue, in any process, takes its jobs. */
  readonly sharedByProcesses = true;
  private runtime?: BusRuntime;

  constructor(private readonly deps: BullMQEventTransportDeps) {}

  get name(): string {
    return `queue "${this.runtime?.queueName ?? this.deps.options.queue?.name ?? this.deps.settings.queueName}"`;
  }

  get consuming(): boolean {
    return this.runtime?.consuming ?? false;
  }

  async start(): Promise<void> {
    this.runtime = await BusRuntime.start(this.deps);
  }

  readiness(): EventBusReadiness {
    return this.runtime?.readiness() ?? { ready: false, reason: 'the event transport is not started' };
  }

  async checkHealth(limits: TransportHealthLimits): Promise<TransportHealth> {
    if (!this.runtime) return { queue: { healthy: false, reason: 'the event transport is not started' } };
    return this.runtime.checkHealth(limits);
  }

  dispatch(events: readonly StoredEvent[], options: DispatchOptions): Promise<string[]> {
    if (!this.runtime) return Promise.reject(new EnqueueFailedError('the event transport is not started'));
    return this.runtime.dispatch(events, options);
  }

  redriveFailed(filter: FailedDeliveryFilter): Promise<number> {
    if (!this.runtime) return Promise.reject(new EnqueueFailedError('the event transport is not started'));
    return this.runtime.redriveFailed(filter);
  }

  async jobCounts(): Promise<Record<string, number> | undefined> {
    return this.runtime?.jobCounts();
  }

  async drain(): Promise<void> {
    await this.runtime?.drain();
  }

  async close(): Promise<void> {
    try {
      await this.runtime?.close();
    } finally {
      this.runtime = undefined;
    }
  }
}
