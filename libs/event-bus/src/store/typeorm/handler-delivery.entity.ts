import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { HandlerDeliveryStatus } from '../../core/ports/delivery-records.js';

/**
 * The `event_handler_deliveries` table as TypeORM sees it (the schema comes from the migrations).
 * One row per (event, handler) whose delivery failed at least once; the happy path writes none.
 * The bus reads and writes it with its own SQL (typeorm-delivery-records.ts); the entity is
 * here so `autoLoadEntities` and hand-built DataSources know the table.
 */
@Entity({ name: 'event_handler_deliveries' })
export class HandlerDeliveryEntity {
  @PrimaryColumn({ name: 'event_id', type: 'uuid' })
  eventId!: string;

  @PrimaryColumn({ type: 'varchar', length: 255 })
  handler!: string;

  @Column({ type: 'varchar' })
  status!: HandlerDeliveryStatus;

  /** Attempts made in the current run (reset by a re-drive). */
  @Column({ type: 'integer', default: 0 })
  attempts!: number;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  @Column({ name: 'failed_at', type: 'timestamptz', nullable: true })
  failedAt!: Date | null;

  /** 0 for the first delivery, +1 per `retryFailed`. */
  @Column({ type: 'integer', default: 0 })
  run!: number;

  /** The BullMQ job that owns the current run. */
  @Column({ name: 'job_id', type: 'varchar', nullable: true })
  jobId!: string | null;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'NOW()' })
  updatedAt!: Date;
}
