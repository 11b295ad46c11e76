import { IsOptional, IsString, IsUUID, Length } from 'class-validator';

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
}
