import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { FailedDeliveryFilterDto, FailedDeliveryQueryDto } from './dto/failed-delivery-filter.dto.js';
import { WorkflowService } from './workflow.service.js';

/** Dead letters: handler deliveries that exhausted their retry policy. */
@Controller('events')
export class EventsController {
  constructor(private readonly workflows: WorkflowService) {}

  /** Oldest failure first; `limit` and `after` (the previous page's last item, as JSON) page them. */
  @Get('failed')
  failed(@Query() query: FailedDeliveryQueryDto) {
    return this.workflows.failedDeliveries(query);
  }

  /** The ordered handlers (here the read model's projection): where each stands and how many events behind. */
  @Get('ordered-handlers')
  orderedHandlers() {
    return this.workflows.orderedHandlers();
  }

  /** Re-drives the failed deliveries that match (all of them for an empty body), each with fresh attempts. */
  @Post('retry-failed')
  @HttpCode(200)
  retryFailed(@Body() filter?: FailedDeliveryFilterDto) {
    return this.workflows.retryFailed(filter ?? {});
  }
}
