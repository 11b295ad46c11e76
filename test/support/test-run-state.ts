/**
 * What the global setup leaves for the global teardown. Jest runs both in its main process, and a
 * global is the documented way to hand state from one to the other.
 */
import type { EmbeddedPostgresServer } from '../../apps/workflow-engine/src/infrastructure/database/embedded-postgres.server.js';

export interface TestRunState {
  noticesDir: string;
  /** One line each: where the run's PostgreSQL and Redis come from. */
  database: string;
  redis: string;
  /** Services that were missing and what the run did instead. */
  degraded: string[];
  embedded?: EmbeddedPostgresServer;
}

const KEY = Symbol.for('event-bus.test-run-state');

type WithState = typeof globalThis & { [KEY]?: TestRunState };

export function setTestRunState(state: TestRunState): void {
  (globalThis as WithState)[KEY] = state;
}

export function getTestRunState(): TestRunState | undefined {
  return (globalThis as WithState)[KEY];
}
