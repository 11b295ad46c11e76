import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller.js';
import { EventBusHealthIndicator } from './event-bus.health.js';
import { QueueHealthIndicator } from './queue.health.js';

@Module({
  imports: [TerminusModule],
  controllers: [HealthController],
  providers: [QueueHealthIndicator, EventBusHealthIndicator],
})
export class HealthModule {}
