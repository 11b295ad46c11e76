import { Module, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { EVENT_BUS_QUEUE } from '@app/event-bus';
import type { Queue } from 'bullmq';
import type { RequestHandler } from 'express';

export const QUEUE_DASHBOARD_PATH = '/queues';

type BoardServerAdapter = Parameters<typeof createBullBoard>[0]['serverAdapter'];

/**
 * The BullMQ queue dashboard (bull-board) on `/queues`, for the event queue on either backend.
 *
 * This is what `BullBoardModule.forRoot` + `forFeature` of `@bull-board/nestjs` do, in a few lines:
 * that package is CommonJS and `require`s Nest 12, which is ESM-only — Node 20 manages, but Jest's
 * module runtime cannot (it needs Node 24.9+ for `require` of ESM), so the app's e2e tests could
 * not boot the real AppModule with it.
 */
@Module({})
export class QueueDashboardModule implements NestModule {
  constructor(@InjectQueue(EVENT_BUS_QUEUE) private readonly queue: Queue) {}

  configure(consumer: MiddlewareConsumer): void {
    const serverAdapter = new ExpressAdapter();
    serverAdapter.setBasePath(QUEUE_DASHBOARD_PATH);
    createBullBoard({
      queues: [new BullMQAdapter(this.queue, { readOnlyMode: false })],
      // @bull-board/express 9.10.1 brings its own copy of @bull-board/api 9.10.1, whose class types
      // TypeScript tells apart from the root's 9.10.2; the adapter contract is the same.
      serverAdapter: serverAdapter as unknown as BoardServerAdapter,
      options: { uiConfig: { boardTitle: 'Workflow events' } },
    });
    consumer.apply(serverAdapter.getRouter() as RequestHandler).forRoutes(QUEUE_DASHBOARD_PATH);
  }
}
