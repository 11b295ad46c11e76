import { describe, expect, it } from '@jest/globals';
import type { StoredEvent } from '@app/event-bus';
import { WorkflowEvents } from '../workflow-events.js';
import { nextStep } from './next-step.js';

const nodes = [
  { id: 'a', type: 'task' as const },
  { id: 'b', type: 'task' as const },
];
let sequence = 0;
const stored = (type: string, payload: unknown, causationId?: string): StoredEvent => {
  sequence += 1;
  return {
    id: `e${sequence}`,
    type,
    tenantId: 't',
    timestamp: '2025-01-01T00:00:00.000Z',
    payload,
    metadata: { workflowId: 'w', ...(causationId ? { causationId } : {}) },
    sequenceNumber: sequence,
    version: sequence,
    status: 'processed',
    createdAt: '2025-01-01T00:00:00.000Z',
  };
};
const started = stored(WorkflowEvents.started, { workflowId: 'w', name: 'n', nodes });
const triggered = (nodeIndex: number) =>
  stored(WorkflowEvents.nodeTriggered, { workflowId: 'w', nodeIndex, node: nodes[nodeIndex] });
const completed = (nodeIndex: number) =>
  stored(WorkflowEvents.nodeCompleted, { workflowId: 'w', nodeIndex, node: nodes[nodeIndex], attempt: 1, output: {} });
const failed = (final: boolean) =>
  stored(WorkflowEvents.nodeFailed, { workflowId: 'w', nodeIndex: 0, node: nodes[0], attempt: 1, error: 'x', final });

describe('nextStep', () => {
  it('after the start: trigger the first node, unless it is triggered already', () => {
    expect(nextStep([started], started)).toEqual({
      type: WorkflowEvents.nodeTriggered,
      payload: { workflowId: 'w', nodeIndex: 0, node: nodes[0] },
    });
    expect(nextStep([started, triggered(0)], started)).toBeUndefined();
  });

  it('after a completion: the next node, unless it is triggered already (by another completion of the node)', () => {
    const done = completed(0);
    expect(nextStep([started, triggered(0), done], done)).toMatchObject({ payload: { nodeIndex: 1 } });
    const other = completed(0);
    expect(nextStep([started, triggered(0), other, triggered(1), done], done)).toBeUndefined();
  });

  it('after the last completion: complete the run once', () => {
    const last = completed(1);
    const history = [started, triggered(0), completed(0), triggered(1), last];
    expect(nextStep(history, last)).toEqual({ type: WorkflowEvents.completed, payload: { workflowId: 'w', nodes: 2 } });
    expect(nextStep([...history, stored(WorkflowEvents.completed, {})], last)).toBeUndefined();
  });

  it('after a failed try: nothing until the final one, which fails the run once', () => {
    const early = failed(false);
    expect(nextStep([started, triggered(0), early], early)).toBeUndefined();
    const final = failed(true);
    expect(nextStep([started, triggered(0), final], final)).toEqual({
      type: WorkflowEvents.failed,
      payload: { workflowId: 'w', nodeIndex: 0, nodeId: 'a', error: 'x' },
    });
    expect(
      nextStep([started, triggered(0), final, stored(WorkflowEvents.failed, {}, final.id)], final),
    ).toBeUndefined();
  });

  it('a history without its start event is an error', () => {
    const done = completed(0);
    expect(() => nextStep([done], done)).toThrow(/no workflow.started/);
  });
});
