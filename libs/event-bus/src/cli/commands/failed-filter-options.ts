import type { FailedDeliveryFilter } from '../../core/event-bus.js';
import type { CommonCliOptions } from '../support/cli-session.js';

/** The filters `failed` and `retry-failed` share. */
export interface FailedFilterCliOptions extends CommonCliOptions {
  handler?: string;
  tenant?: string;
  event?: string;
}

export function failedFilterOf(options: FailedFilterCliOptions): FailedDeliveryFilter {
  const filter: FailedDeliveryFilter = {};
  if (options.handler !== undefined) filter.handler = options.handler;
  if (options.tenant !== undefined) filter.tenantId = options.tenant;
  if (options.event !== undefined) filter.eventId = options.event;
  return filter;
}
