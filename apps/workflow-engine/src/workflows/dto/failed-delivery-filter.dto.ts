import { Type } from 'class-transformer';
import { IsInt, IsJSON, IsOptional, IsString, IsUUID, Length, Max, Min } from 'class-validator';

/** Which failed deliveries `GET /events/failed` lists and `POST /events/retry-failed` re-drives; empty means all. */
export class FailedDeliveryFilterDto {
  @IsOptional()
  @IsUUID('all')
  eventId?: string;

  /** Handler name, e.g. `NodeRunner.run`. */
  @IsOptional()
  @IsString()
  @Length(1, 255)
  handler?: string;

  @IsOptional()
  @IsUUID('all')
  tenantId?: string;

  /** Event type, exactly, e.g. `workflow.node.triggered`. */
  @IsOptional()
  @IsString()
  @Length(1, 255)
  eventType?: string;

  @IsOptional()
  @IsString()
  @Length(1, 255)
  workflowId?: string;
}

/** `GET /events/failed`: the filter, and keyset paging. */
export class FailedDeliveryQueryDto extends FailedDeliveryFilterDto {
  /** Page size. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number;

  /**
   * Where the previous page ended: its last item's `{ failedAt, eventId, handler }` as JSON (the bus
   * checks the fields).
   */
  @IsOptional()
  @IsJSON()
  after?: string;
}
