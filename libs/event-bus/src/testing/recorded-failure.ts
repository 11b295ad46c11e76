import type { FailedDelivery } from '../core/event-bus.js';

/** A failed delivery as the test harness reports it: `getFailedDeliveries`' fields and the error itself. */
export interface RecordedFailure extends FailedDelivery {
  error: Error;
}
