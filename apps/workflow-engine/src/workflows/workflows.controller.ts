import {
  Body,
  Controller,
  DefaultValuePipe,
  Get,
  HttpCode,
  Param,
  ParseIntPipe,
  ParseUUIDPipe,
  Post,
  Query,
} from '@nestjs/common';
import { StartWorkflowDto } from './dto/start-workflow.dto.js';
import { WorkflowService } from './workflow.service.js';

@Controller('workflows')
export class WorkflowsController {
  constructor(private readonly workflows: WorkflowService) {}

  /** Starts a run of the described workflow; an empty body starts the demo workflow. */
  @Post()
  start(@Body() body?: StartWorkflowDto) {
    // A request without a JSON body arrives as `undefined`: that is the demo request.
    return this.workflows.start(body ?? {});
  }

  /** The runs with the latest activity first, from the read model. */
  @Get()
  list(@Query('limit', new DefaultValuePipe(20), ParseIntPipe) limit: number) {
    return this.workflows.latestRuns(Math.min(Math.max(limit, 1), 100));
  }

  @Get(':id')
  run(@Param('id', ParseUUIDPipe) id: string) {
    return this.workflows.run(id);
  }

  /** The run's stored events in order, with status, attempts and failure records. */
  @Get(':id/events')
  events(@Param('id', ParseUUIDPipe) id: string) {
    return this.workflows.events(id);
  }

  /** Rebuilds the whole read model from the log: the ordered projection is reset and catches up. */
  @Post('projection/rebuild')
  @HttpCode(202)
  rebuildProjection() {
    return this.workflows.rebuildProjection();
  }

  /** Rebuilds the run's row of the read model from its events. */
  @Post(':id/replay')
  @HttpCode(200)
  replay(@Param('id', ParseUUIDPipe) id: string) {
    return this.workflows.replay(id);
  }
}
