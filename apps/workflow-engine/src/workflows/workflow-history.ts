import { Injectable } from '@nestjs/common';
import { EventBus, type StoredEvent } from '@app/event-bus';
import { WorkflowEvents, type NodeFailed, type WorkflowStarted } from './workflow-events.js';

/** What the engine reads back from the event store: the history of a run is its only state. */
@Injectable()
export class WorkflowHistory {
  constructor(private readonly bus: EventBus) {}

  /** Every stored event of the run, in sequence order. */
  events(workflowId: string): Promise<StoredEvent[]> {
    return this.bus.getEventsByWorkflowId(workflowId);
  }

  /** The run's definition, from its `workflow.started` event. */
  async definition(workflowId: string): Promise<WorkflowStarted> {
    const started = (await this.events(workflowId)).find((event) => event.type === WorkflowEvents.started);
    if (!started) throw new Error(`Workflow ${workflowId} has no ${WorkflowEvents.started} event`);
    return started.payload as WorkflowStarted;
  }

  /** How many tries of one node have failed so far, re-drives included. */
  async failedTries(workflowId: string, nodeIndex: number): Promise<number> {
    const events = await this.events(workflowId);
    return events.filter(
      (event) => event.type === WorkflowEvents.nodeFailed && (event.payload as NodeFailed).nodeIndex === nodeIndex,
    ).length;
  }
}
