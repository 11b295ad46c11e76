import type { EventBusGaugeSource, OutboxBacklog } from '../observability/event-bus-instruments.js';
import type { OrderedHandlerState } from './event-bus.js';
import type { DeliveryGaugeReading, DeliveryGauges } from './ports/delivery-gauges.js';
import type { EventTransport } from './ports/event-transport.js';

/**
 * The scrape-time readings of one started bus: the store's delivery gauges (one query serves the
 * failed-deliveries and both outbox gauges of a scrape, which prom-client collects concurrently),
 * the transport's job counts, and the ordered handlers' lag (`getOrderedHandlers()`, so the gauge
 * reports them as soon as the bus has any).
 */
export function busGaugeSource(
  gauges: DeliveryGauges,
  transport: Pick<EventTransport, 'jobCounts'>,
  orderedHandlers: () => Promise<OrderedHandlerState[]>,
): EventBusGaugeSource {
  let reading: Promise<DeliveryGaugeReading> | undefined;
  const read = (): Promise<DeliveryGaugeReading> => {
    reading ??= gauges.read().finally(() => {
      reading = undefined;
    });
    return reading;
  };
  return {
    failedDeliveries: async () => (await read()).failedDeliveries,
    outbox: async (): Promise<OutboxBacklog> => {
      const { outboxPending, outboxOldestSeconds } = await read();
      return { pending: outboxPending, oldestSeconds: outboxOldestSeconds };
    },
    queueJobs: async () => transport.jobCounts?.(),
    orderedLag: async () => (await orderedHandlers()).map(({ handler, lag }) => ({ handler, lag })),
  };
}
