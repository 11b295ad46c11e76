import type { DeliveryGaugeReading, DeliveryGauges } from '../../core/ports/delivery-gauges.js';
import type { InMemoryTables } from './in-memory-tables.js';

/** The delivery gauges of the in-memory tables, with the conditions of read-delivery-gauges.sql.ts. */
export class InMemoryDeliveryGauges implements DeliveryGauges {
  constructor(private readonly tables: InMemoryTables) {}

  async read(): Promise<DeliveryGaugeReading> {
    const failedDeliveries = this.tables.allDeliveries().filter((row) => row.status === 'failed').length;
    let outboxPending = 0;
    let oldest = Number.POSITIVE_INFINITY;
    for (const row of this.tables.events) {
      if (row.jobId !== null || row.status !== 'pending') continue;
      outboxPending += 1;
      oldest = Math.min(oldest, Date.parse(row.createdAt));
    }
    const outboxOldestSeconds = outboxPending === 0 ? 0 : Math.max(0, (Date.now() - oldest) / 1000);
    return { failedDeliveries, outboxPending, outboxOldestSeconds };
  }
}
