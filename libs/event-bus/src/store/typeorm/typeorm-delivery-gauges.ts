import type { DataSource } from 'typeorm';
import type { DeliveryGaugeReading, DeliveryGauges } from '../../core/ports/delivery-gauges.js';
import { READ_DELIVERY_GAUGES_SQL, type DeliveryGaugesRow } from './schema/read-delivery-gauges.sql.js';
import { withinStoreDeadline } from './store-availability.js';

/** The delivery gauges of the store's database (schema/read-delivery-gauges.sql.ts). */
export class TypeOrmDeliveryGauges implements DeliveryGauges {
  constructor(
    private readonly dataSource: DataSource,
    private readonly storeTimeoutMs: number,
  ) {}

  async read(): Promise<DeliveryGaugeReading> {
    const [row]: DeliveryGaugesRow[] = await withinStoreDeadline(
      this.dataSource.query(READ_DELIVERY_GAUGES_SQL),
      this.storeTimeoutMs,
    );
    return {
      failedDeliveries: row.failed_deliveries,
      outboxPending: row.outbox_pending,
      outboxOldestSeconds: Math.max(0, row.outbox_oldest_seconds),
    };
  }
}
