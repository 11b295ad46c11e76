import { Injectable } from '@nestjs/common';
import { OnEvent, type RetryPolicy, type StoredEvent } from '@app/event-bus';
import {
  WorkflowEvents,
  type NodeCompleted,
  type NodeFailed,
  type NodeTriggered,
  type WorkflowCompleted,
  type WorkflowFailed,
  type WorkflowStarted,
} from '../workflow-events.js';
import { WorkflowHistory } from '../workflow-history.js';
import { WorkflowPublisher } from '../workflow-publisher.js';

/** Orchestration only fails when the database does; a few quick retries ride out a blip. */
const ORCHESTRATION_RETRY: RetryPolicy = {
  maxAttempts: 5,
  backoff: { type: 'exponential', delay: 200, maxDelay: 5000 },
};

/**
 * Moves a run along: trigger the first node, then the next one after each completion, and end the
 * run when the last node completes or a node fails for good. It publishes, so it takes no part in
 * replays; what it publishes has ids derived from the cause, so a retried handler publishes nothing twice.
 */
@Injectable()
export class WorkflowOrchestrator {
  constructor(
    private readonly publisher: WorkflowPublisher,
    private readonly history: WorkflowHistory,
  ) {}

  @OnEvent(WorkflowEvents.started, { replay: false, retry: ORCHESTRATION_RETRY })
  async onStarted(event: StoredEvent<WorkflowStarted>): Promise<void> {
    const { workflowId, nodes } = event.payload;
    const triggered: NodeTriggered = { workflowId, nodeIndex: 0, node: nodes[0] };
    await this.publisher.follow(event, 'next', WorkflowEvents.nodeTriggered, triggered);
  }

  @OnEvent(WorkflowEvents.nodeCompleted, { replay: false, retry: ORCHESTRATION_RETRY })
  async onNodeCompleted(event: StoredEvent<NodeCompleted>): Promise<void> {
    const { workflowId, nodeIndex } = event.payload;
    const { nodes } = await this.history.definition(workflowId);
    const next = nodeIndex + 1;
    if (next < nodes.length) {
      const triggered: NodeTriggered = { workflowId, nodeIndex: next, node: nodes[next] };
      await this.publisher.follow(event, 'next', WorkflowEvents.nodeTriggered, triggered);
      return;
    }
    const completed: WorkflowCompleted = { workflowId, nodes: nodes.length };
    await this.publisher.follow(event, 'next', WorkflowEvents.completed, completed);
  }

  @OnEvent(WorkflowEvents.nodeFailed, { replay: false, retry: ORCHESTRATION_RETRY })
  async onNodeFailed(event: StoredEvent<NodeFailed>): Promise<void> {
    const { workflowId, nodeIndex, node, error, final } = event.payload;
    // Earlier tries are retried by the node runner's policy; only the last one ends the run.
    if (!final) return;
    const failed: WorkflowFailed = { workflowId, nodeIndex, nodeId: node.id, error };
    await this.publisher.follow(event, 'next', WorkflowEvents.failed, failed);
  }
}
