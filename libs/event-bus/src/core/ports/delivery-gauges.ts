/** What the store tells a metrics scrape about delivery (the `event_bus_failed_deliveries` and outbox gauges). */
export interface DeliveryGaugeReading {
  /** Handler deliveries that exhausted their policy (`failed` records). */
  failedDeliveries: number;
  /** Events stored but not handed to the queue yet (`pending`, no job id): the outbox relay's backlog. */
  outboxPending: number;
  /** Age of the oldest of them, in seconds by the store's clock; 0 when there is none. */
  outboxOldestSeconds: number;
}

/** One read of the delivery gauges, for metrics and health checks. The caller bounds the wait. */
export interface DeliveryGauges {
  read(): Promise<DeliveryGaugeReading>;
}
