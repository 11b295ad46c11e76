import { Injectable } from '@nestjs/common';
import { EventBus, type StoredEvent } from '@app/event-bus';
import { derivedEventId } from './derived-event-id.js';

/**
 * Publishes the events of a workflow run: each one carries the run's id in `metadata.workflowId`
 * (what `getEventsByWorkflowId` reads) and the event that caused it in `metadata.causationId`.
 */
@Injectable()
export class WorkflowPublisher {
  constructor(private readonly bus: EventBus) {}

  /** The first event of a run. */
  start<P>(workflowId: string, tenantId: string, type: string, payload: P): Promise<StoredEvent<P>> {
    return this.bus.publish({ type, tenantId, payload, metadata: { workflowId } });
  }

  /**
   * An event caused by `cause`, under an id derived from the cause and `step`: a handler that runs
   * again (at-least-once delivery) publishes the same event again, which the bus stores only once.
   * With `expectedVersion`, only if the run is still at that version (else `EventConcurrencyError`).
   */
  follow<P>(
    cause: StoredEvent,
    step: string,
    type: string,
    payload: P,
    options: { expectedVersion?: number } = {},
  ): Promise<StoredEvent<P>> {
    return this.bus.publish(
      {
        id: derivedEventId(cause.id, step),
        type,
        tenantId: cause.tenantId,
        payload,
        metadata: { workflowId: workflowIdOf(cause), causationId: cause.id },
      },
      options,
    );
  }
}

export function workflowIdOf(event: StoredEvent): string {
  const workflowId = event.metadata?.workflowId;
  if (!workflowId) throw new Error(`Event ${event.id} (${event.type}) belongs to no workflow`);
  return workflowId;
}
