import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { NODE_TYPES, type NodeType } from '../workflow-events.js';

export class WorkflowNodeDto {
  /** Unique within the workflow; `<type>-<position>` when left out. */
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, { message: '$property must be 1–64 letters, digits, _ or -' })
  id?: string;

  @IsIn(NODE_TYPES)
  type!: NodeType;

  /** `slow` nodes: how long the node works, in ms (default SLOW_NODE_MS). */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(60_000)
  durationMs?: number;

  /** `flaky` nodes: how many tries fail on purpose (default FLAKY_NODE_FAILURES). */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(1000)
  failures?: number;
}

/** The body of `POST /workflows`; an empty body starts the demo workflow. */
export class StartWorkflowDto {
  @IsOptional()
  @IsString()
  @Length(1, 100)
  name?: string;

  /** Defaults to TENANT_ID. */
  @IsOptional()
  @IsUUID('all')
  tenantId?: string;

  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(50)
  @ValidateNested({ each: true })
  @Type(() => WorkflowNodeDto)
  nodes?: WorkflowNodeDto[];
}
