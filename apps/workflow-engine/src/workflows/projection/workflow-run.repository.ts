import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { StoredEvent } from '@app/event-bus';
import type { EntityManager, Repository } from 'typeorm';
import {
  WorkflowEvents,
  type NodeCompleted,
  type NodeFailed,
  type NodeRef,
  type WorkflowFailed,
  type WorkflowStarted,
} from '../workflow-events.js';
import { WorkflowRunEntity, type RunStatus } from './workflow-run.entity.js';

/** What one event says about its run; `undefined` fields are left as they are. */
interface RunChange {
  name?: string;
  nodeCount?: number;
  startedAt?: string;
  completedNodes?: number;
  status: RunStatus;
  currentNode: string | null;
  error: string | null;
}

/**
 * Applies events to the `workflow_runs` read model with one upsert each. Handlers of consecutive
 * events may run at the same time, so an event older than the row's newest one (`last_sequence`)
 * only fills in what is still missing: status, current node and error follow the newest event.
 */
const UPSERT = `
  INSERT INTO workflow_runs AS r (workflow_id, tenant_id, name, status, node_count, completed_nodes, current_node,
                                  error, last_event_type, last_sequence, started_at, updated_at)
  VALUES ($1, $2, $3, $4, $5, COALESCE($6, 0), $7, $8, $9, $10, $11, NOW())
  ON CONFLICT (workflow_id) DO UPDATE SET
    name = COALESCE(r.name, EXCLUDED.name),
    node_count = COALESCE(r.node_count, EXCLUDED.node_count),
    started_at = COALESCE(r.started_at, EXCLUDED.started_at),
    completed_nodes = GREATEST(r.completed_nodes, EXCLUDED.completed_nodes),
    status = CASE WHEN EXCLUDED.last_sequence > r.last_sequence THEN EXCLUDED.status ELSE r.status END,
    current_node = CASE WHEN EXCLUDED.last_sequence > r.last_sequence THEN EXCLUDED.current_node ELSE r.current_node END,
    error = CASE WHEN EXCLUDED.last_sequence > r.last_sequence THEN EXCLUDED.error ELSE r.error END,
    last_event_type = CASE WHEN EXCLUDED.last_sequence > r.last_sequence
                           THEN EXCLUDED.last_event_type ELSE r.last_event_type END,
    last_sequence = GREATEST(r.last_sequence, EXCLUDED.last_sequence),
    updated_at = NOW()`;

@Injectable()
export class WorkflowRunRepository {
  constructor(@InjectRepository(WorkflowRunEntity) private readonly runs: Repository<WorkflowRunEntity>) {}

  /** Applies one event, in the caller's transaction when given one (the projection handler's). */
  async apply(workflowId: string, event: StoredEvent, manager?: EntityManager): Promise<void> {
    const change = changeOf(event);
    if (!change) return;
    await (manager ?? this.runs.manager).query(UPSERT, [
      workflowId,
      event.tenantId,
      change.name ?? null,
      change.status,
      change.nodeCount ?? null,
      change.completedNodes ?? null,
      change.currentNode,
      change.error,
      event.type,
      event.sequenceNumber,
      change.startedAt ?? null,
    ]);
  }

  find(workflowId: string): Promise<WorkflowRunEntity | null> {
    return this.runs.findOneBy({ workflowId });
  }

  /** The runs with the latest activity first. */
  latest(limit: number): Promise<WorkflowRunEntity[]> {
    return this.runs.find({ order: { updatedAt: 'DESC' }, take: limit });
  }

  /** Builds one run's row again from its events (in version order), in one transaction. */
  async rebuild(workflowId: string, events: readonly StoredEvent[]): Promise<void> {
    await this.runs.manager.transaction(async (manager) => {
      await manager.delete(WorkflowRunEntity, { workflowId });
      for (const event of events) await this.apply(workflowId, event, manager);
    });
  }

  /** Forgets every run, before the projection is fed the whole log again. */
  async clear(): Promise<void> {
    await this.runs.manager.query('DELETE FROM workflow_runs');
  }
}

function changeOf(event: StoredEvent): RunChange | undefined {
  switch (event.type) {
    case WorkflowEvents.started: {
      const { name, nodes } = event.payload as WorkflowStarted;
      return {
        name,
        nodeCount: nodes.length,
        startedAt: event.timestamp,
        status: 'running',
        currentNode: null,
        error: null,
      };
    }
    case WorkflowEvents.nodeTriggered:
      return { status: 'running', currentNode: (event.payload as NodeRef).node.id, error: null };
    case WorkflowEvents.nodeCompleted: {
      const { nodeIndex, node } = event.payload as NodeCompleted;
      return { completedNodes: nodeIndex + 1, status: 'running', currentNode: node.id, error: null };
    }
    case WorkflowEvents.nodeFailed: {
      const { node, error } = event.payload as NodeFailed;
      return { status: 'running', currentNode: node.id, error };
    }
    case WorkflowEvents.completed:
      return { status: 'completed', currentNode: null, error: null };
    case WorkflowEvents.failed: {
      const { nodeId, error } = event.payload as WorkflowFailed;
      return { status: 'failed', currentNode: nodeId, error };
    }
    default:
      return undefined;
  }
}
