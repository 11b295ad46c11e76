import type { StoredEvent } from '@app/event-bus';
import {
  WorkflowEvents,
  type NodeCompleted,
  type NodeFailed,
  type NodeTriggered,
  type WorkflowCompleted,
  type WorkflowFailed,
  type WorkflowStarted,
} from '../workflow-events.js';

/** The event the orchestrator publishes next. */
export interface NextStep {
  type: string;
  payload: NodeTriggered | WorkflowCompleted | WorkflowFailed;
}

/**
 * What a run needs after `cause`, decided from its history (its events as stored, in version order),
 * or `undefined` when there is nothing to do: the cause asks for nothing (a failed try that is not
 * the last), or the history already holds what it asks for — published by an earlier run of this
 * handler, or by a concurrent one whose cause asked for the same step (two completions of one node).
 * The orchestrator publishes the step with the history's version as `expectedVersion`, so of two
 * deciders that read the same history only one can publish; the other reads again and finds it here.
 */
export function nextStep(history: readonly StoredEvent[], cause: StoredEvent): NextStep | undefined {
  const triggered = (nodeIndex: number): boolean =>
    history.some(
      (event) =>
        event.type === WorkflowEvents.nodeTriggered && (event.payload as NodeTriggered).nodeIndex === nodeIndex,
    );
  const causedBy = (type: string): boolean =>
    history.some((event) => event.type === type && event.metadata?.causationId === cause.id);

  switch (cause.type) {
    case WorkflowEvents.started: {
      const { workflowId, nodes } = cause.payload as WorkflowStarted;
      return triggered(0) ? undefined : trigger(workflowId, nodes, 0);
    }
    case WorkflowEvents.nodeCompleted: {
      const { workflowId, nodeIndex } = cause.payload as NodeCompleted;
      const { nodes } = definition(history, workflowId);
      const next = nodeIndex + 1;
      if (next < nodes.length) return triggered(next) ? undefined : trigger(workflowId, nodes, next);
      const done = history.some((event) => event.type === WorkflowEvents.completed);
      return done ? undefined : { type: WorkflowEvents.completed, payload: { workflowId, nodes: nodes.length } };
    }
    case WorkflowEvents.nodeFailed: {
      const { workflowId, nodeIndex, node, error, final } = cause.payload as NodeFailed;
      // Earlier tries are retried by the node runner's policy; only the last one ends the run.
      if (!final || causedBy(WorkflowEvents.failed)) return undefined;
      return { type: WorkflowEvents.failed, payload: { workflowId, nodeIndex, nodeId: node.id, error } };
    }
    default:
      return undefined;
  }
}

function trigger(workflowId: string, nodes: WorkflowStarted['nodes'], nodeIndex: number): NextStep {
  return { type: WorkflowEvents.nodeTriggered, payload: { workflowId, nodeIndex, node: nodes[nodeIndex] } };
}

/** The run's definition, from its `workflow.started` event. */
function definition(history: readonly StoredEvent[], workflowId: string): WorkflowStarted {
  const started = history.find((event) => event.type === WorkflowEvents.started);
  if (!started) throw new Error(`Workflow ${workflowId} has no ${WorkflowEvents.started} event`);
  return started.payload as WorkflowStarted;
}
