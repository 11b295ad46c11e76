import { EventValidationError, type EventValidationIssue } from '../shared/errors.js';
import type { EventStatus, NewDomainEvent, StoredEvent } from '../events/domain-event.js';
import { EVENT_STATUSES } from '../events/domain-event.js';
import {
  checkDate,
  checkEventType,
  checkFilter,
  checkQueryOptions,
  checkUuid,
  checkWorkflowId,
  throwIfInvalid,
  type CheckedFilter,
} from './event-filter.validation.js';
import { EventStore } from './event-store.js';
import type {
  EventCountFilter,
  EventFilter,
  EventQueryOptions,
  EventWriteOptions,
  PruneOptions,
  WorkflowVersionOptions,
} from './event-store.js';
import type { WorkflowStream } from './expected-version.js';
import { checkPruneOptions, type CheckedPrune } from './prune-options.validation.js';
import { runPrune, type PruneBatchResult, type PruneCursor } from './prune-loop.js';

/**
 * What every `EventStore` does the same way before it reads or writes: check the arguments of the
 * queries, of `updateStatus` and of `prune` (every problem at once, as `EventValidationError`), so the stores
 * (`PersistentEventStore`, `InMemoryEventStore`) differ only in where the rows are.
 */
export abstract class ValidatingEventStore extends EventStore {
  /** Reads the events a checked filter selects, in sequence order. */
  protected abstract find<P>(filter: CheckedFilter): Promise<StoredEvent<P>[]>;

  /**
   * The last version of each of the workflow's streams: of the one tenant's when `tenantId` is given
   * (an empty list when it has no events), else of every tenant that has events of it.
   */
  protected abstract findWorkflowVersions(workflowId: string, tenantId: string | undefined): Promise<WorkflowVersion[]>;

  /** Counts the events a checked filter selects (its `limit` ignored). */
  protected abstract countMatching(filter: CheckedFilter): Promise<number>;

  /** Writes a checked status (and job id) of a checked event id. */
  protected abstract writeStatus(id: string, status: EventStatus, jobId: string | undefined): Promise<void>;

  /** One batch of `prune`: examines up to `prune.batchSize` events after the cursor, deletes the prunable ones. */
  protected abstract pruneBatch(prune: CheckedPrune, after: PruneCursor | undefined): Promise<PruneBatchResult>;

  async saveAll<P = unknown>(events: NewDomainEvent<P>[], options?: EventWriteOptions): Promise<StoredEvent<P>[]> {
    const appended = await this.append(events, options);
    return appended.map(({ event }) => event);
  }

  async getEventsByType<P = unknown>(type: string, options?: EventQueryOptions): Promise<StoredEvent<P>[]> {
    const issues: EventValidationIssue[] = [];
    checkEventType('type', type, issues);
    const filter = checkQueryOptions(options, issues);
    throwIfInvalid(issues);
    return this.find({ ...filter, types: [type] });
  }

  async getEventsByTenant<P = unknown>(tenantId: string, options?: EventQueryOptions): Promise<StoredEvent<P>[]> {
    const issues: EventValidationIssue[] = [];
    const tenant = checkUuid('tenantId', tenantId, issues);
    const filter = checkQueryOptions(options, issues);
    throwIfInvalid(issues);
    // A different tenant in the options as well: no event belongs to both.
    if (filter.tenantId !== undefined && filter.tenantId !== tenant) return [];
    return this.find({ ...filter, tenantId: tenant });
  }

  async getEventsByTimeRange<P = unknown>(
    from: Date,
    to: Date,
    options?: EventQueryOptions,
  ): Promise<StoredEvent<P>[]> {
    const issues: EventValidationIssue[] = [];
    const start = checkDate('from', from, issues);
    const end = checkDate('to', to, issues);
    if (start && end && end.getTime() < start.getTime()) {
      issues.push({
        field: 'to',
        message: `must not be before from (${start.toISOString()}), got ${end.toISOString()}`,
      });
    }
    const filter = checkQueryOptions(options, issues);
    throwIfInvalid(issues);
    return this.find({ ...filter, from: start, to: end });
  }

  async getEventsByWorkflowId<P = unknown>(workflowId: string, options?: EventQueryOptions): Promise<StoredEvent<P>[]> {
    const issues: EventValidationIssue[] = [];
    checkWorkflowId('workflowId', workflowId, issues);
    const filter = checkQueryOptions(options, issues);
    throwIfInvalid(issues);
    return this.find({ ...filter, workflowId });
  }

  async getWorkflowVersion(workflowId: string, options?: WorkflowVersionOptions): Promise<number> {
    const issues: EventValidationIssue[] = [];
    checkWorkflowId('workflowId', workflowId, issues);
    const tenantId = options?.tenantId === undefined ? undefined : checkUuid('tenantId', options.tenantId, issues);
    throwIfInvalid(issues);
    const streams = await this.findWorkflowVersions(workflowId, tenantId);
    if (streams.length > 1) {
      throw new EventValidationError([
        {
          field: 'tenantId',
          message:
            `is required: workflow "${workflowId}" has events in ${streams.length} tenants, ` +
            'each with a stream (and versions) of its own',
        },
      ]);
    }
    return streams[0]?.version ?? 0;
  }

  async query<P = unknown>(filter?: EventFilter): Promise<StoredEvent<P>[]> {
    const issues: EventValidationIssue[] = [];
    const checked = checkFilter(filter, issues);
    throwIfInvalid(issues);
    return this.find(checked);
  }

  async count(filter?: EventCountFilter): Promise<number> {
    const issues: EventValidationIssue[] = [];
    const checked = checkFilter(filter, issues);
    throwIfInvalid(issues);
    return this.countMatching({ ...checked, limit: undefined });
  }

  async updateStatus(id: string, status: EventStatus, jobId?: string): Promise<void> {
    const issues: EventValidationIssue[] = [];
    const eventId = checkUuid('id', id, issues);
    if (!EVENT_STATUSES.includes(status)) {
      issues.push({ field: 'status', message: `must be one of ${EVENT_STATUSES.join(', ')}` });
    }
    if (jobId !== undefined && (typeof jobId !== 'string' || jobId === '')) {
      issues.push({ field: 'jobId', message: 'must be a non-empty string' });
    }
    throwIfInvalid(issues);
    await this.writeStatus(eventId!, status, jobId);
  }

  async prune(options: PruneOptions): Promise<number> {
    const checked = checkPruneOptions(options);
    return runPrune(checked, (prune, after) => this.pruneBatch(prune, after));
  }
}

/** One stream's last version, as `findWorkflowVersions` reports it. */
export interface WorkflowVersion extends WorkflowStream {
  version: number;
}
