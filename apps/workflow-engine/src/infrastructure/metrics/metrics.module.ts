import { Global, Module } from '@nestjs/common';
import { Registry } from 'prom-client';
import { MetricsController } from './metrics.controller.js';

/**
 * The app's Prometheus registry (the event bus reports to it: `metrics: { registry }`) and
 * `GET /metrics`. A registry of the app's own rather than prom-client's global one: two app
 * instances in one process (tests) each scrape their own.
 */
@Global()
@Module({
  controllers: [MetricsController],
  providers: [{ provide: Registry, useFactory: () => new Registry() }],
  exports: [Registry],
})
export class MetricsModule {}
