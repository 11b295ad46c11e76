import { describeValue } from './event-type.js';

/**
 * Longest workflow id: `workflow_id` is indexed, and PostgreSQL refuses a B-tree entry past about
 * 2,700 bytes; 255 characters stay below that in any script (at most 3 UTF-8 bytes each, 4 per pair).
 */
export const MAX_WORKFLOW_ID_LENGTH = 255;

/** What is wrong with a workflow id (an event's `metadata.workflowId`, a query filter), or `undefined`. */
export function workflowIdProblem(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return `must be a non-empty string, got ${describeValue(value)}`;
  if (value.length > MAX_WORKFLOW_ID_LENGTH) {
    return `must be at most ${MAX_WORKFLOW_ID_LENGTH} characters, got ${value.length}`;
  }
  if (value.includes('\u0000')) return "contains the character \\u0000, which PostgreSQL's text cannot store";
  return undefined;
}
