import { Injectable } from '@nestjs/common';
import { EventBus, type StoredEvent } from '@app/event-bus';
import { WorkflowEvents, type NodeFailed } from './workflow-events.js';

/** What the engine reads back from the event store: the history of a run is its only state. */
@Injectable()
export class WorkflowHistory {
  constructor(private readonly bus: EventBus) {}

  /** Every stored event of the run, in version order (which is sequence order). */
  events(workflowId: string): Promise<StoredEvent[]> {
    return this.bus.getEventsByWorkflowId(workflowId);
  }

  /**
   * The run's events and its version (the last event's; 0 for none): what a writer decides from,
   * and the `expectedVersion` of what it publishes from that decision.
   */
  async stream(workflowId: string, tenantId: string): Promise<{ events: StoredEvent[]; version: number }> {
    const events = await this.bus.getEventsByWorkflowId(workflowId, { tenantId });
    return { events, version: events.at(-1)?.version ?? 0 };
  }

  /** How many tries of one node have failed so far, re-drives included. */
  async failedTries(workflowId: string, nodeIndex: number): Promise<number> {
    const events = await this.events(workflowId);
    return events.filter(
      (event) => event.type === WorkflowEvents.nodeFailed && (event.payload as NodeFailed).nodeIndex === nodeIndex,
    ).length;
  }
}
