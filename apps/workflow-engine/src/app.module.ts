import { Module, ValidationPipe, type DynamicModule } from '@nestjs/common';
import { APP_PIPE } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EventBusModule } from '@app/event-bus';
import { Registry } from 'prom-client';
import { APP_CONFIG, type ResolvedAppConfig } from './infrastructure/config/app-config.js';
import { AppConfigModule } from './infrastructure/config/app-config.module.js';
import { QueueDashboardModule } from './infrastructure/dashboard/queue-dashboard.module.js';
import { HealthModule } from './infrastructure/health/health.module.js';
import { MetricsModule } from './infrastructure/metrics/metrics.module.js';
import { PageController } from './infrastructure/page/page.controller.js';
import { appMigrations } from './migrations/index.js';
import { WorkflowsModule } from './workflows/workflows.module.js';

/**
 * The sample app. `forRoot` takes a configuration whose database is already known: main.ts starts
 * the embedded PostgreSQL first when no DATABASE_URL is set; tests pass a database of their own.
 */
@Module({})
export class AppModule {
  static forRoot(config: ResolvedAppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        AppConfigModule.forRoot(config),
        TypeOrmModule.forRoot({
          type: 'postgres',
          url: config.databaseUrl,
          // The event bus registers its entities with forFeature; this finds them (and the app's).
          autoLoadEntities: true,
          // The schema comes from the migrations, applied at start-up; never from the entities.
          synchronize: false,
          migrations: appMigrations,
          migrationsRun: true,
          installExtensions: false,
        }),
        MetricsModule,
        EventBusModule.forRootAsync({
          inject: [APP_CONFIG, Registry],
          useFactory: (settings: ResolvedAppConfig, registry: Registry) => ({
            ...(settings.queue.backend === 'redis'
              ? { backend: 'redis' as const, connection: settings.queue.connection }
              : { backend: 'postgres' as const }),
            queueName: settings.queueName,
            prefix: settings.queuePrefix,
            concurrency: settings.concurrency,
            // Handlers that declare no policy (the node runner) use this one.
            defaultRetry: settings.nodeRetry,
            // Served at GET /metrics (infrastructure/metrics).
            metrics: { registry },
          }),
        }),
        WorkflowsModule,
        HealthModule,
        QueueDashboardModule,
      ],
      controllers: [PageController],
      providers: [
        {
          provide: APP_PIPE,
          useValue: new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }),
        },
      ],
    };
  }
}
