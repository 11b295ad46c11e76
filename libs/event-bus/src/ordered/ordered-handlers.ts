import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { LoggerService } from '@nestjs/common';
import type { HandlerTransactions } from '../core/ports/handler-inbox.js';
import type { EventBusInstruments } from '../observability/event-bus-instruments.js';
import type { OrderedLog } from '../core/ports/ordered-log.js';
import { EventBusConfigurationError } from '../shared/errors.js';
import type { RetryPolicy } from '../subscriptions/retry-policy.js';
import type { SubscriptionManager } from '../subscriptions/subscription-manager.js';
import { OrderedConsumer, type OrderedFailures } from './ordered-consumer.js';
import { typeRegex } from './type-regex.js';

/** How ordered handlers run in a process. */
export interface OrderedRunSettings {
  /** A dead owner's buckets are taken over within this, in ms. */
  takeoverMs: number;
  /** Keys each ordered handler runs at once. */
  concurrency: number;
  defaultRetry: RetryPolicy;
  /** The timeout of handlers that declare none. */
  handlerTimeoutMs?: number;
  /** How long `stop()` waits for running calls before aborting their `context.signal`. */
  shutdownTimeoutMs: number;
  /** Retry at once instead of after the policy's delay (the in-memory bus without `realDelays`). */
  immediateRetries?: boolean;
}

/** One ordered handler's standing, as `getOrderedHandlers()` reports it. */
export interface OrderedHandlerReport {
  handler: string;
  position: { transactionId: string; sequenceNumber: number } | null;
  lag: number;
  parked: number;
  owners: string[];
}

/**
 * The ordered handlers of a bus: a consumer for each in a consuming process, their standings and
 * their resets (which work from any process, a CLI included, since they only touch the tables).
 */
export class OrderedHandlers {
  private readonly consumers = new Map<string, OrderedConsumer>();
  private readonly stopSignal = new AbortController();
  /** Names this process in the leases: host, pid and a random part (a pid is reused across restarts). */
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;

  constructor(
    private readonly deps: {
      log: OrderedLog;
      subscriptions: SubscriptionManager;
      failures: OrderedFailures;
      transactions: HandlerTransactions & { atomic: boolean };
      /** The bus's metrics: ordered calls count as any handler's (`success`, `retry`, `failed`). */
      instruments: EventBusInstruments;
      logger: LoggerService;
      settings: OrderedRunSettings;
    },
  ) {}

  /** Starts a consumer for each ordered handler registered now. */
  async start(): Promise<void> {
    const { log, subscriptions, failures, transactions, instruments, logger, settings } = this.deps;
    for (const handler of subscriptions.orderedHandlers()) {
      if (this.consumers.has(handler.name)) continue;
      const consumer = new OrderedConsumer({
        log,
        handler,
        owner: this.owner,
        takeoverMs: settings.takeoverMs,
        concurrency: settings.concurrency,
        immediateRetries: settings.immediateRetries,
        defaultRetry: settings.defaultRetry,
        limits: { defaultTimeoutMs: settings.handlerTimeoutMs, stop: this.stopSignal.signal, instruments },
        failures,
        transactions,
        logger,
      });
      this.consumers.set(handler.name, consumer);
      await consumer.start();
    }
  }

  /** Whether every consumer has settled (see `OrderedConsumer.settled`). */
  async settled(): Promise<boolean> {
    for (const consumer of this.consumers.values()) if (!(await consumer.settled())) return false;
    return true;
  }

  /** What the consumers are doing, for the message of an idle wait that ran out. */
  describeWork(): string[] {
    return [...this.consumers.values()].map((consumer) => consumer.describeWork());
  }

  /** Stops the consumer of one handler (it was unsubscribed), giving its buckets back. */
  async stopHandler(name: string): Promise<void> {
    const consumer = this.consumers.get(name);
    this.consumers.delete(name);
    await consumer?.stop();
  }

  /** Stops every consumer: running calls get `shutdownTimeoutMs`, then their signal is aborted. */
  async stop(): Promise<void> {
    const consumers = [...this.consumers.values()];
    this.consumers.clear();
    const timer = setTimeout(() => this.stopSignal.abort(), this.deps.settings.shutdownTimeoutMs);
    timer.unref();
    try {
      await Promise.all(consumers.map((consumer) => consumer.stop()));
    } finally {
      clearTimeout(timer);
    }
  }

  async standings(): Promise<OrderedHandlerReport[]> {
    const reports: OrderedHandlerReport[] = [];
    for (const handler of this.deps.subscriptions.orderedHandlers()) {
      const standing = await this.deps.log.standing(handler.name, typeRegex(handler.patterns));
      reports.push({
        handler: handler.name,
        position: standing.position && {
          transactionId: standing.position.transactionId.toString(),
          sequenceNumber: standing.position.sequenceNumber,
        },
        lag: standing.lag,
        parked: standing.parked,
        owners: standing.owners,
      });
    }
    return reports;
  }

  /** Feeds the handler again from `from`: every process drops what it holds of it and reads afresh. */
  async reset(name: string, from: Date | 'beginning'): Promise<void> {
    const handler = this.deps.subscriptions.get(name);
    if (!handler?.ordered) {
      const known = this.deps.subscriptions.orderedHandlers().map((ordered) => ordered.name);
      throw new EventBusConfigurationError(
        'name',
        `no ordered handler is named "${name}"${known.length > 0 ? ` (ordered handlers: ${known.join(', ')})` : ''}`,
      );
    }
    await this.deps.log.reset(name, from);
    await this.consumers.get(name)?.restart();
  }
}
