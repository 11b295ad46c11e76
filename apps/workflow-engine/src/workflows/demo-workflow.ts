import type { DemoConfig } from '../infrastructure/config/app-config.js';
import type { WorkflowNode } from './workflow-events.js';
import type { StartWorkflowDto } from './dto/start-workflow.dto.js';

export interface WorkflowDefinition {
  name: string;
  nodes: WorkflowNode[];
}

/**
 * The workflow an empty `POST /workflows` starts: a slow node to watch it run, and a flaky one that
 * fails more tries than the runner's policy allows (with the defaults), so the run ends `failed`
 * until `POST /events/retry-failed` re-drives the node and it succeeds.
 */
export function demoWorkflow(demo: DemoConfig): WorkflowDefinition {
  return {
    name: 'order-fulfilment',
    nodes: [
      { id: 'validate-order', type: 'task' },
      { id: 'charge-payment', type: 'slow', durationMs: demo.slowNodeMs },
      { id: 'reserve-stock', type: 'flaky', failures: demo.flakyFailures },
      { id: 'send-confirmation', type: 'task' },
    ],
  };
}

/**
 * The definition a request describes, with every default filled in, so the `workflow.started`
 * event says exactly what the run will do. Returns the problem when node ids repeat.
 */
export function definitionFrom(body: StartWorkflowDto, demo: DemoConfig): WorkflowDefinition | string {
  if (!body.nodes) return { ...demoWorkflow(demo), ...(body.name ? { name: body.name } : {}) };
  const nodes = body.nodes.map((node, index): WorkflowNode => {
    const full: WorkflowNode = { id: node.id ?? `${node.type}-${index + 1}`, type: node.type };
    if (node.type === 'slow') full.durationMs = node.durationMs ?? demo.slowNodeMs;
    if (node.type === 'flaky') full.failures = node.failures ?? demo.flakyFailures;
    return full;
  });
  const ids = nodes.map((node) => node.id);
  const repeated = ids.find((id, index) => ids.indexOf(id) !== index);
  if (repeated) return `nodes: the id '${repeated}' is used more than once`;
  return { name: body.name ?? 'workflow', nodes };
}
