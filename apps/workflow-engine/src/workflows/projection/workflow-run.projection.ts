import { Injectable } from '@nestjs/common';
import { OnEvent, type EventContext, type StoredEvent } from '@app/event-bus';
import { workflowIdOf } from '../workflow-publisher.js';
import { WorkflowRunRepository } from './workflow-run.repository.js';

/** The projection's handler name: `resetOrderedHandler` and the events page name it. */
export const WORKFLOW_RUN_PROJECTION = 'WorkflowRunProjection.apply';

/**
 * Keeps the `workflow_runs` read model: an ordered handler (a run's events one at a time, in version
 * order; runs in parallel) and a transactional one (its upsert commits with the handler's progress,
 * so each event is applied exactly once). `POST /workflows/projection/rebuild` rebuilds every row
 * from the log (`resetOrderedHandler`); `POST /workflows/:id/replay` rebuilds one run's row.
 */
@Injectable()
export class WorkflowRunProjection {
  constructor(private readonly runs: WorkflowRunRepository) {}

  @OnEvent('workflow.**', {
    name: WORKFLOW_RUN_PROJECTION,
    ordered: true,
    transactional: true,
    startFrom: 'beginning',
    retry: { maxAttempts: 5, backoff: { type: 'exponential', delay: 200, maxDelay: 5000 } },
  })
  async apply(event: StoredEvent, context: EventContext): Promise<void> {
    await this.runs.apply(workflowIdOf(event), event, context.manager);
  }
}
