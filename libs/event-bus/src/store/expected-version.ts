import { EventValidationError } from '../shared/errors.js';
import { describeValue } from '../shared/describe-value.js';
import type { ValidatedEvent } from '../events/event-validator.js';

/** One workflow's stream: the key of its versions. */
export interface WorkflowStream {
  tenantId: string;
  workflowId: string;
}

/**
 * Checks `expectedVersion` (a non-negative safe integer: the workflow's last version the caller saw,
 * 0 for none) against validated events, and returns the one stream they all append to. Every event
 * needs a workflow, and all of them the same one (and tenant): a version is a position in one stream.
 * `undefined` for an empty batch, which appends nothing to anything.
 */
export function expectedStream(
  events: readonly ValidatedEvent[],
  expectedVersion: unknown,
): WorkflowStream | undefined {
  checkExpectedVersion(expectedVersion);
  const [first] = events;
  if (!first) return undefined;
  const stream = streamOf(first, 0, events.length);
  events.forEach((candidate, index) => {
    const { tenantId, workflowId } = streamOf(candidate, index, events.length);
    if (workflowId !== stream.workflowId || tenantId !== stream.tenantId) {
      throw new EventValidationError(
        [
          {
            field: workflowId !== stream.workflowId ? 'metadata.workflowId' : 'tenantId',
            message:
              `must be the same for every event published with expectedVersion (one workflow's stream): ` +
              `the first event's is ${workflowId !== stream.workflowId ? JSON.stringify(stream.workflowId) : stream.tenantId}`,
          },
        ],
        { index },
      );
    }
  });
  return stream;
}

/** `EventValidationError` unless `expectedVersion` is a non-negative safe integer. */
export function checkExpectedVersion(expectedVersion: unknown): asserts expectedVersion is number {
  if (typeof expectedVersion !== 'number' || !Number.isSafeInteger(expectedVersion) || expectedVersion < 0) {
    throw new EventValidationError([
      {
        field: 'expectedVersion',
        message: `must be a non-negative integer (the workflow's last version you saw, 0 for none), got ${describeValue(expectedVersion)}`,
      },
    ]);
  }
}

function streamOf({ event }: ValidatedEvent, index: number, count: number): WorkflowStream {
  const workflowId = event.metadata?.workflowId;
  if (workflowId === undefined) {
    throw new EventValidationError(
      [
        {
          field: 'metadata.workflowId',
          message: 'is required with expectedVersion: versions number the events of one workflow',
        },
      ],
      count > 1 ? { index } : undefined,
    );
  }
  return { tenantId: event.tenantId, workflowId };
}
