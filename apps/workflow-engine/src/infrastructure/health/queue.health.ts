import { Inject, Injectable } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import { HealthIndicatorService } from '@nestjs/terminus';
import { EVENT_BUS_QUEUE } from '@app/event-bus';
import type { Queue } from 'bullmq';
import { APP_CONFIG, type ResolvedAppConfig } from '../config/app-config.js';

/**
 * Whether the event queue answers, on whichever backend it runs (Redis or PostgreSQL): reading its
 * job counts is a round trip to that backend, and the counts are worth showing anyway.
 */
@Injectable()
export class QueueHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    @InjectQueue(EVENT_BUS_QUEUE) private readonly queue: Queue,
    @Inject(APP_CONFIG) private readonly config: ResolvedAppConfig,
  ) {}

  check<const Key extends string>(key: Key, timeoutMs: number) {
    return this.indicators
      .check(key)
      .attempt(async () => ({
        backend: this.config.queue.backend,
        jobs: await this.queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed'),
      }))
      .withTimeout(timeoutMs);
  }
}
