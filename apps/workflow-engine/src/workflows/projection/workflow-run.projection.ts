import { Injectable } from '@nestjs/common';
import { OnEvent, type StoredEvent } from '@app/event-bus';
import { workflowIdOf } from '../workflow-publisher.js';
import { WorkflowRunRepository } from './workflow-run.repository.js';

/**
 * Keeps the `workflow_runs` read model. Applying an event twice changes nothing, so the handler
 * takes part in replays (the default): `POST /workflows/:id/replay` rebuilds a run's row from its events.
 */
@Injectable()
export class WorkflowRunProjection {
  constructor(private readonly runs: WorkflowRunRepository) {}

  @OnEvent('workflow.**', { retry: { maxAttempts: 5, backoff: { type: 'exponential', delay: 200, maxDelay: 5000 } } })
  async apply(event: StoredEvent): Promise<void> {
    await this.runs.apply(workflowIdOf(event), event);
  }
}
