import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { FailedDeliveryFilterDto } from './dto/failed-delivery-filter.dto.js';
import { WorkflowService } from './workflow.service.js';

/** Dead letters: handler deliveries that exhausted their retry policy. */
@Controller('events')
export class EventsController {
  constructor(private readonly workflows: WorkflowService) {}

  @Get('failed')
  failed(@Query() filter: FailedDeliveryFilterDto) {
    return this.workflows.failedDeliveries(filter);
  }

  /** Re-drives the failed deliveries that match (all of them for an empty body), each with fresh attempts. */
  @Post('retry-failed')
  @HttpCode(200)
  retryFailed(@Body() filter?: FailedDeliveryFilterDto) {
    return this.workflows.retryFailed(filter ?? {});
  }
}
