import { Injectable, Logger } from '@nestjs/common';
import { EventConcurrencyError, OnEvent, type RetryPolicy, type StoredEvent } from '@app/event-bus';
import { nextStep } from '../orchestration/next-step.js';
import { WorkflowEvents, type NodeCompleted, type NodeFailed, type WorkflowStarted } from '../workflow-events.js';
import { WorkflowHistory } from '../workflow-history.js';
import { WorkflowPublisher, workflowIdOf } from '../workflow-publisher.js';

/** Orchestration only fails when the database does; a few quick retries ride out a blip. */
const ORCHESTRATION_RETRY: RetryPolicy = {
  maxAttempts: 5,
  backoff: { type: 'exponential', delay: 200, maxDelay: 5000 },
};

/**
 * How often one delivery decides again after another writer appended to the run between its read
 * and its publish. Each time means the run moved on, so a handful is plenty; past it the error
 * goes to the bus, which retries the delivery under ORCHESTRATION_RETRY.
 */
const MAX_DECISIONS = 5;

/**
 * Moves a run along: trigger the first node, then the next one after each completion, and end the
 * run when the last node completes or a node fails for good. It publishes, so it takes no part in
 * replays; what it publishes has ids derived from the cause, so a retried handler publishes nothing twice.
 *
 * Each step is decided from the run's history and appended with that history's version as
 * `expectedVersion`: two deliveries that decide from the same history (two completions of one node
 * arriving at once, in two workers) cannot both trigger the next node. The loser gets an
 * `EventConcurrencyError`, reads the history again and finds the step taken (orchestration/next-step.ts).
 */
@Injectable()
export class WorkflowOrchestrator {
  private readonly logger = new Logger(WorkflowOrchestrator.name);

  constructor(
    private readonly publisher: WorkflowPublisher,
    private readonly history: WorkflowHistory,
  ) {}

  @OnEvent(WorkflowEvents.started, { replay: false, retry: ORCHESTRATION_RETRY })
  onStarted(event: StoredEvent<WorkflowStarted>): Promise<void> {
    return this.advance(event);
  }

  @OnEvent(WorkflowEvents.nodeCompleted, { replay: false, retry: ORCHESTRATION_RETRY })
  onNodeCompleted(event: StoredEvent<NodeCompleted>): Promise<void> {
    return this.advance(event);
  }

  @OnEvent(WorkflowEvents.nodeFailed, { replay: false, retry: ORCHESTRATION_RETRY })
  onNodeFailed(event: StoredEvent<NodeFailed>): Promise<void> {
    return this.advance(event);
  }

  /** Reads the run, decides, and publishes at the version it read; on a lost race, reads again. */
  private async advance(cause: StoredEvent): Promise<void> {
    const workflowId = workflowIdOf(cause);
    for (let decision = 1; ; decision += 1) {
      const { events, version } = await this.history.stream(workflowId, cause.tenantId);
      const step = nextStep(events, cause);
      if (!step) return;
      try {
        await this.publisher.follow(cause, 'next', step.type, step.payload, { expectedVersion: version });
        return;
      } catch (error) {
        if (!(error instanceof EventConcurrencyError) || decision >= MAX_DECISIONS) throw error;
        this.logger.log(
          `${workflowId} moved on to version ${error.actualVersion} while ${cause.type} ${cause.id} ` +
            `was deciding at version ${version}; deciding again`,
        );
      }
    }
  }
}
