import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EventsController } from './events.controller.js';
import { NodeRunner } from './handlers/node-runner.handler.js';
import { WorkflowOrchestrator } from './handlers/workflow-orchestrator.handler.js';
import { NodeExecutor } from './nodes/node-executor.js';
import { WorkflowRunEntity } from './projection/workflow-run.entity.js';
import { WorkflowRunProjection } from './projection/workflow-run.projection.js';
import { WorkflowRunRepository } from './projection/workflow-run.repository.js';
import { WorkflowHistory } from './workflow-history.js';
import { WorkflowPublisher } from './workflow-publisher.js';
import { WorkflowService } from './workflow.service.js';
import { WorkflowsController } from './workflows.controller.js';

/**
 * The workflow engine: its HTTP API, and its handlers — ordinary providers with `@OnEvent` methods,
 * found by the event bus module wherever they are declared.
 */
@Module({
  imports: [TypeOrmModule.forFeature([WorkflowRunEntity])],
  controllers: [WorkflowsController, EventsController],
  providers: [
    WorkflowService,
    WorkflowPublisher,
    WorkflowHistory,
    NodeExecutor,
    NodeRunner,
    WorkflowOrchestrator,
    WorkflowRunProjection,
    WorkflowRunRepository,
  ],
})
export class WorkflowsModule {}
