import { Column, Entity, PrimaryColumn } from 'typeorm';

export const RUN_STATUSES = ['running', 'completed', 'failed'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** `bigint` columns come back from `pg` as strings; positions here stay far below 2^53. */
const bigintAsNumber = {
  to: (value: number) => value,
  from: (value: string | null) => (value === null ? null : Number(value)),
};

/**
 * One row per workflow run: a read model kept by `WorkflowRunProjection` from the run's events and
 * rebuilt from them by a replay. The table comes from the app's own migration.
 */
@Entity({ name: 'workflow_runs' })
export class WorkflowRunEntity {
  @PrimaryColumn({ name: 'workflow_id', type: 'uuid' })
  workflowId!: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId!: string;

  @Column({ type: 'varchar', nullable: true })
  name!: string | null;

  @Column({ type: 'varchar' })
  status!: RunStatus;

  @Column({ name: 'node_count', type: 'int', nullable: true })
  nodeCount!: number | null;

  @Column({ name: 'completed_nodes', type: 'int' })
  completedNodes!: number;

  @Column({ name: 'current_node', type: 'varchar', nullable: true })
  currentNode!: string | null;

  @Column({ type: 'text', nullable: true })
  error!: string | null;

  @Column({ name: 'last_event_type', type: 'varchar' })
  lastEventType!: string;

  @Column({ name: 'last_sequence', type: 'bigint', transformer: bigintAsNumber })
  lastSequence!: number;

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt!: Date | null;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
