import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The app's read model of workflow runs (see WorkflowRunEntity). */
export class CreateWorkflowRuns1764300100000 implements MigrationInterface {
  name = 'CreateWorkflowRuns1764300100000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE workflow_runs (
        workflow_id UUID PRIMARY KEY,
        tenant_id UUID NOT NULL,
        name VARCHAR,
        status VARCHAR NOT NULL CONSTRAINT workflow_runs_status_check CHECK (status IN ('running', 'completed', 'failed')),
        node_count INT,
        completed_nodes INT NOT NULL DEFAULT 0,
        current_node VARCHAR,
        error TEXT,
        last_event_type VARCHAR NOT NULL,
        -- The position of the newest event applied: older ones arriving late change no status.
        last_sequence BIGINT NOT NULL,
        started_at TIMESTAMP WITH TIME ZONE,
        updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW()
      )`);
    // The page lists the newest runs first.
    await queryRunner.query(`CREATE INDEX workflow_runs_updated_at_idx ON workflow_runs (updated_at DESC)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE workflow_runs`);
  }
}
