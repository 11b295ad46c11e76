import { Injectable } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowHistory } from '../workflow-history.js';
import type { NodeRef } from '../workflow-events.js';

/** The work of one node, by type. Throws when the node fails; the runner's retry policy decides what follows. */
@Injectable()
export class NodeExecutor {
  constructor(private readonly history: WorkflowHistory) {}

  async execute({ workflowId, nodeIndex, node }: NodeRef): Promise<Record<string, unknown>> {
    switch (node.type) {
      case 'task':
        return { done: true };
      case 'slow': {
        // Long enough to watch the node's event stay `processing` on the page.
        const durationMs = node.durationMs ?? 0;
        await sleep(durationMs);
        return { workedMs: durationMs };
      }
      case 'flaky': {
        // Counted in the store rather than in memory, so re-drives and other worker processes
        // see the same count: the first `failures` tries fail, the next one succeeds.
        const failedBefore = await this.history.failedTries(workflowId, nodeIndex);
        const failures = node.failures ?? 0;
        if (failedBefore < failures) {
          throw new Error(`Node ${node.id} failed on purpose (try ${failedBefore + 1}; it fails ${failures} tries)`);
        }
        return { failedTriesBefore: failedBefore };
      }
    }
  }
}
