import { describe, expect, it } from '@jest/globals';
import { definitionFrom, demoWorkflow } from './demo-workflow.js';

const demo = { slowNodeMs: 3000, flakyFailures: 3 };

describe('definitionFrom', () => {
  it('starts the demo workflow for an empty request, under the given name if any', () => {
    expect(definitionFrom({}, demo)).toEqual(demoWorkflow(demo));
    expect(definitionFrom({ name: 'mine' }, demo)).toEqual({ ...demoWorkflow(demo), name: 'mine' });
  });

  it('fills in ids and the configured defaults, so the started event says exactly what will run', () => {
    expect(
      definitionFrom({ nodes: [{ type: 'task' }, { type: 'slow' }, { id: 'pay', type: 'flaky', failures: 1 }] }, demo),
    ).toEqual({
      name: 'workflow',
      nodes: [
        { id: 'task-1', type: 'task' },
        { id: 'slow-2', type: 'slow', durationMs: 3000 },
        { id: 'pay', type: 'flaky', failures: 1 },
      ],
    });
  });

  it('refuses node ids that repeat', () => {
    expect(
      definitionFrom(
        {
          nodes: [
            { type: 'task', id: 'a' },
            { type: 'slow', id: 'a' },
          ],
        },
        demo,
      ),
    ).toBe("nodes: the id 'a' is used more than once");
  });
});
