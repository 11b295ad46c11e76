/**
 * The events every contender publishes: the same shape and size for all of them, so a ratio
 * compares the code paths and not the payloads. A typical workflow event, ~250 bytes of JSON.
 */
import { randomUUID } from 'node:crypto';

/** A `DomainEvent` as the library's `publish` takes it (structurally; the baselines need no library). */
export interface BenchEvent {
  id: string;
  type: string;
  timestamp: string;
  tenantId: string;
  payload: { workflowId: string; nodeId: string; attempt: number; output: Record<string, unknown> };
  metadata: { workflowId: string };
}

export const BENCH_EVENT_TYPE = 'workflow.node.completed';

/** Ten tenants, fixed, so runs are comparable. */
export const BENCH_TENANTS = Array.from(
  { length: 10 },
  (_, index) => `00000000-0000-4000-8000-${String(index + 1).padStart(12, '0')}`,
);

export function benchEvent(index: number): BenchEvent {
  const workflowId = `wf-${Math.floor(index / 10)}`;
  return {
    id: randomUUID(),
    type: BENCH_EVENT_TYPE,
    timestamp: new Date().toISOString(),
    tenantId: BENCH_TENANTS[index % BENCH_TENANTS.length],
    payload: {
      workflowId,
      nodeId: `node-${index % 10}`,
      attempt: 1,
      output: { status: 'ok', items: index % 7, durationMs: 12, message: 'node finished without errors' },
    },
    metadata: { workflowId },
  };
}

export function benchEvents(count: number, offset = 0): BenchEvent[] {
  return Array.from({ length: count }, (_, index) => benchEvent(offset + index));
}

/** Splits `items` into arrays of at most `size`. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size) result.push(items.slice(start, start + size));
  return result;
}
