/**
 * The events of a workflow run and their payloads. A run is told entirely by its events: the
 * definition travels in `workflow.started`, every later event names the node it is about.
 */

export const WorkflowEvents = {
  started: 'workflow.started',
  nodeTriggered: 'workflow.node.triggered',
  nodeCompleted: 'workflow.node.completed',
  nodeFailed: 'workflow.node.failed',
  completed: 'workflow.completed',
  failed: 'workflow.failed',
} as const;

/** `task` completes at once; `slow` works for `durationMs`; `flaky` fails its first `failures` tries. */
export const NODE_TYPES = ['task', 'slow', 'flaky'] as const;
export type NodeType = (typeof NODE_TYPES)[number];

export interface WorkflowNode {
  /** Unique within the workflow. */
  id: string;
  type: NodeType;
  /** `slow` nodes: how long the node works, in ms. */
  durationMs?: number;
  /** `flaky` nodes: how many tries fail before one succeeds (counted across re-drives). */
  failures?: number;
}

export interface WorkflowStarted {
  workflowId: string;
  name: string;
  nodes: WorkflowNode[];
}

/** Every node event says which node, by position and id. */
export interface NodeRef {
  workflowId: string;
  nodeIndex: number;
  node: WorkflowNode;
}

export type NodeTriggered = NodeRef;

export interface NodeCompleted extends NodeRef {
  /** The try that succeeded (1 for the first). */
  attempt: number;
  output: Record<string, unknown>;
}

export interface NodeFailed extends NodeRef {
  attempt: number;
  error: string;
  /** True when the runner's retry policy has no attempt left: the workflow fails. */
  final: boolean;
}

export interface WorkflowCompleted {
  workflowId: string;
  nodes: number;
}

export interface WorkflowFailed {
  workflowId: string;
  nodeIndex: number;
  nodeId: string;
  error: string;
}
