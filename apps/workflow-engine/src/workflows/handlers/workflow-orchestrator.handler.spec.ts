import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { StoredEvent } from '@app/event-bus';
import { InMemoryEventBus } from '@app/event-bus/testing';
import { WorkflowEvents, type NodeCompleted, type WorkflowStarted } from '../workflow-events.js';
import { WorkflowHistory } from '../workflow-history.js';
import { WorkflowPublisher } from '../workflow-publisher.js';
import { WorkflowOrchestrator } from './workflow-orchestrator.handler.js';

const TENANT = '44444444-4444-4444-8444-444444444444';

/**
 * The orchestrator on the in-memory bus, called directly (no handler is subscribed): what it
 * publishes for causes delivered at once, as two workers would deliver them.
 */
describe('WorkflowOrchestrator', () => {
  let bus: InMemoryEventBus;
  let orchestrator: WorkflowOrchestrator;
  let publisher: WorkflowPublisher;
  let workflowId: string;
  let started: StoredEvent<WorkflowStarted>;

  beforeEach(async () => {
    bus = new InMemoryEventBus();
    await bus.initialize();
    publisher = new WorkflowPublisher(bus);
    orchestrator = new WorkflowOrchestrator(publisher, new WorkflowHistory(bus));
    workflowId = randomUUID();
    started = await publisher.start<WorkflowStarted>(workflowId, TENANT, WorkflowEvents.started, {
      workflowId,
      name: 'two nodes',
      nodes: [
        { id: 'a', type: 'task' },
        { id: 'b', type: 'task' },
      ],
    });
  });
  afterEach(() => bus.close());

  const history = async (): Promise<string[]> =>
    (await bus.getEventsByWorkflowId(workflowId)).map((event) => {
      const node = (event.payload as { node?: { id: string } }).node;
      return `${event.version}:${event.type}${node ? `:${node.id}` : ''}`;
    });

  /** A completion of node `nodeIndex`, as a node runner publishes it (each run under its own id). */
  const completion = (nodeIndex: number): Promise<StoredEvent<NodeCompleted>> =>
    publisher.follow(started, `completed-${randomUUID()}`, WorkflowEvents.nodeCompleted, {
      workflowId,
      nodeIndex,
      node: started.payload.nodes[nodeIndex],
      attempt: 1,
      output: {},
    });

  it('triggers each node once, then completes the run', async () => {
    await orchestrator.onStarted(started);
    await orchestrator.onStarted(started); // delivered again: nothing new
    await orchestrator.onNodeCompleted(await completion(0));
    await orchestrator.onNodeCompleted(await completion(1));
    expect(await history()).toEqual([
      '1:workflow.started',
      '2:workflow.node.triggered:a',
      '3:workflow.node.completed:a',
      '4:workflow.node.triggered:b',
      '5:workflow.node.completed:b',
      '6:workflow.completed',
    ]);
  });

  it('two completions of one node handled at once trigger the next node once: the loser re-reads and stops', async () => {
    await orchestrator.onStarted(started);
    const [first, second] = [await completion(0), await completion(0)];
    await Promise.all([orchestrator.onNodeCompleted(first), orchestrator.onNodeCompleted(second)]);
    const triggeredB = (await history()).filter((line) => line.endsWith('triggered:b'));
    expect(triggeredB).toEqual(['5:workflow.node.triggered:b']);
  });

  it('without expectedVersion the same race would trigger the next node twice (what the version check prevents)', async () => {
    await orchestrator.onStarted(started);
    const [first, second] = [await completion(0), await completion(0)];
    const trigger = (cause: StoredEvent) =>
      publisher.follow(cause, 'next', WorkflowEvents.nodeTriggered, {
        workflowId,
        nodeIndex: 1,
        node: started.payload.nodes[1],
      });
    await Promise.all([trigger(first), trigger(second)]);
    expect((await history()).filter((line) => line.endsWith('triggered:b'))).toHaveLength(2);
  });
});
