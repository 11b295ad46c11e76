import { randomUUID } from 'node:crypto';
import { BadRequestException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import {
  EventBus,
  EventStore,
  EventValidationError,
  type FailedDelivery,
  type FailedDeliveryFilter,
  type OrderedHandlerState,
  type StoredEvent,
} from '@app/event-bus';
import { APP_CONFIG, type ResolvedAppConfig } from '../infrastructure/config/app-config.js';
import { definitionFrom } from './demo-workflow.js';
import type { FailedDeliveryQueryDto } from './dto/failed-delivery-filter.dto.js';
import type { StartWorkflowDto } from './dto/start-workflow.dto.js';
import { WORKFLOW_RUN_PROJECTION } from './projection/workflow-run.projection.js';
import { WorkflowRunRepository } from './projection/workflow-run.repository.js';
import type { WorkflowRunEntity } from './projection/workflow-run.entity.js';
import { WorkflowEvents, type WorkflowStarted } from './workflow-events.js';
import { WorkflowHistory } from './workflow-history.js';
import { WorkflowPublisher } from './workflow-publisher.js';

/** One failed delivery as `GET /events/failed` lists it. */
export interface FailedDeliveryView extends FailedDelivery {
  eventType: string | null;
  workflowId: string | null;
}

/** One stored event as the API shows it. */
export interface EventView {
  sequenceNumber: number;
  /** The event's position in the workflow's stream (1, 2, 3 …). */
  version: number | null;
  id: string;
  type: string;
  status: StoredEvent['status'];
  timestamp: string;
  causationId?: string;
  /** `workflow.node.triggered`: how many times the node ran for it (failed tries and the success). */
  attempts?: number;
  payload: unknown;
  /** Handlers that failed this event for good (dead letters), with their attempts and last error. */
  failures: Omit<FailedDelivery, 'eventId'>[];
}

export interface WorkflowEventsView {
  workflowId: string;
  run: WorkflowRunEntity | null;
  events: EventView[];
}

@Injectable()
export class WorkflowService {
  constructor(
    private readonly bus: EventBus,
    private readonly store: EventStore,
    private readonly publisher: WorkflowPublisher,
    private readonly history: WorkflowHistory,
    private readonly runs: WorkflowRunRepository,
    @Inject(APP_CONFIG) private readonly config: ResolvedAppConfig,
  ) {}

  async start(body: StartWorkflowDto): Promise<{ workflowId: string }> {
    const definition = definitionFrom(body, this.config.demo);
    if (typeof definition === 'string') throw new BadRequestException([definition]);
    const workflowId = randomUUID();
    const started: WorkflowStarted = { workflowId, ...definition };
    await this.publisher.start(workflowId, body.tenantId ?? this.config.tenantId, WorkflowEvents.started, started);
    return { workflowId };
  }

  latestRuns(limit: number): Promise<WorkflowRunEntity[]> {
    return this.runs.latest(limit);
  }

  async run(workflowId: string): Promise<WorkflowRunEntity> {
    const run = await this.runs.find(workflowId);
    if (!run) throw new NotFoundException(`No workflow run ${workflowId}`);
    return run;
  }

  async events(workflowId: string): Promise<WorkflowEventsView> {
    const events = await this.existingHistory(workflowId);
    // Failure records exist only for events that failed; one query each, and only for those.
    const failures = new Map<string, FailedDelivery[]>();
    for (const event of events.filter((e) => e.status === 'failed')) {
      failures.set(event.id, await this.bus.getFailedDeliveries({ eventId: event.id }));
    }
    return {
      workflowId,
      run: await this.runs.find(workflowId),
      events: events.map((event) => this.view(event, events, failures.get(event.id) ?? [])),
    };
  }

  /** Rebuilds the run's read model from its events, in one transaction. */
  async replay(workflowId: string) {
    const events = await this.existingHistory(workflowId);
    await this.runs.rebuild(workflowId, events);
    return { workflowId, events: events.length, run: await this.runs.find(workflowId) };
  }

  /**
   * Rebuilds the whole read model: forget every row, then feed the ordered projection the log again
   * from its beginning (every process drops what it held of it). Rows come back as it catches up.
   */
  async rebuildProjection(): Promise<{ handler: string; reset: true }> {
    await this.runs.clear();
    await this.bus.resetOrderedHandler(WORKFLOW_RUN_PROJECTION);
    return { handler: WORKFLOW_RUN_PROJECTION, reset: true };
  }

  /** A page of failed deliveries, each with its event's type and workflow (what the page shows and searches by). */
  async failedDeliveries(query: FailedDeliveryQueryDto): Promise<FailedDeliveryView[]> {
    const { after, ...filter } = query;
    const failures = await this.bus
      .getFailedDeliveries({
        ...filter,
        // Validated as JSON by the DTO; its fields are checked by the bus.
        ...(after === undefined ? {} : { after: JSON.parse(after) as FailedDelivery }),
      })
      .catch((error: unknown) => {
        if (error instanceof EventValidationError) throw new BadRequestException([error.message]);
        throw error;
      });
    const events = new Map<string, StoredEvent | null>();
    for (const { eventId } of failures) {
      if (!events.has(eventId)) events.set(eventId, await this.store.findById(eventId));
    }
    return failures.map((failure) => {
      const event = events.get(failure.eventId);
      return { ...failure, eventType: event?.type ?? null, workflowId: event?.metadata?.workflowId ?? null };
    });
  }

  orderedHandlers(): Promise<OrderedHandlerState[]> {
    return this.bus.getOrderedHandlers();
  }

  async retryFailed(filter: FailedDeliveryFilter): Promise<{ retried: number }> {
    return { retried: await this.bus.retryFailed(filter) };
  }

  private async existingHistory(workflowId: string): Promise<StoredEvent[]> {
    const events = await this.history.events(workflowId);
    if (events.length === 0) throw new NotFoundException(`No events of workflow ${workflowId}`);
    return events;
  }

  private view(event: StoredEvent, all: readonly StoredEvent[], failures: FailedDelivery[]): EventView {
    const causationId = event.metadata?.causationId;
    const view: EventView = {
      sequenceNumber: event.sequenceNumber,
      version: event.version,
      id: event.id,
      type: event.type,
      status: event.status,
      timestamp: event.timestamp,
      payload: event.payload,
      failures: failures.map(({ eventId: _eventId, ...failure }) => failure),
    };
    if (typeof causationId === 'string') view.causationId = causationId;
    if (event.type === WorkflowEvents.nodeTriggered) {
      view.attempts = all.filter(
        (other) =>
          other.metadata?.causationId === event.id &&
          (other.type === WorkflowEvents.nodeFailed || other.type === WorkflowEvents.nodeCompleted),
      ).length;
    }
    return view;
  }
}
