import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { ValueTransformer } from 'typeorm';
import type { EventStatus } from '../../events/domain-event.js';
import { HandlerDeliveryEntity } from './handler-delivery.entity.js';

/**
 * `pg` returns BIGINT as a string (a JavaScript number loses precision past 2^53). Sequence
 * numbers stay far below that, so they are numbers in the API; a value that is not a safe
 * integer fails loudly instead of being rounded.
 */
export const bigintToNumber = {
  to: (value: number | null | undefined): number | null | undefined => value,
  from: (value: string | number | null | undefined): number | null => {
    if (value === null || value === undefined) return null;
    const number = Number(value);
    if (!Number.isSafeInteger(number)) throw new RangeError(`BIGINT ${value} is not a safe integer`);
    return number;
  },
} satisfies ValueTransformer;

/**
 * The `event_store` table as TypeORM sees it. The schema itself comes from the migrations
 * (never `synchronize`): `transaction_id` (type `xid8`, which TypeORM does not know) is
 * deliberately not mapped; PostgreSQL fills it on insert.
 */
@Entity({ name: 'event_store' })
export class EventStoreEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ name: 'event_type', type: 'varchar' })
  eventType!: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId!: string;

  @Column({ type: 'jsonb' })
  payload!: unknown;

  @Column({ type: 'timestamptz' })
  timestamp!: Date;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'NOW()' })
  createdAt!: Date;

  @Column({ name: 'sequence_number', type: 'bigint', insert: false, update: false, transformer: bigintToNumber })
  sequenceNumber!: number;

  @Column({ name: 'job_id', type: 'varchar', nullable: true })
  jobId!: string | null;

  @Column({ name: 'workflow_id', type: 'varchar', nullable: true })
  workflowId!: string | null;

  /** Position in the workflow's stream (1, 2, …), numbered by the INSERT; NULL without a workflow. */
  @Column({ type: 'bigint', nullable: true, insert: false, update: false, transformer: bigintToNumber })
  version!: number | null;

  @Column({ type: 'varchar', nullable: true, default: 'processed' })
  status!: EventStatus | null;

  @Column({ type: 'jsonb', nullable: true })
  metadata!: Record<string, unknown> | null;
}

/**
 * Every entity the library needs, for a DataSource built by hand
 * (`new DataSource({ ..., entities: [...eventBusEntities, ...yours] })`) and for `forFeature`.
 */
export const eventBusEntities = [EventStoreEntity, HandlerDeliveryEntity];
