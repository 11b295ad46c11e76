import { Command, Option } from 'nest-commander';
import { EventBus } from '../../core/event-bus.js';
import { parseName, parsePositiveInteger, parseUuid } from '../support/cli-arguments.js';
import { CliSession } from '../support/cli-session.js';
import { formatTable } from '../support/text-table.js';
import { EventBusCommand } from './event-bus-command.js';
import { failedFilterOf, type FailedFilterCliOptions } from './failed-filter-options.js';

interface FailedCliOptions extends FailedFilterCliOptions {
  limit?: number;
}

@Command({
  name: 'failed',
  description: 'List failed handler deliveries (dead letters), oldest failure first',
})
export class FailedCommand extends EventBusCommand<FailedCliOptions> {
  constructor(
    session: CliSession,
    private readonly bus: EventBus,
  ) {
    super(session);
  }

  protected async execute(_params: string[], options: FailedCliOptions): Promise<void> {
    const all = await this.bus.getFailedDeliveries(failedFilterOf(options));
    const shown = options.limit === undefined ? all : all.slice(0, options.limit);
    this.session.result(shown, () => {
      if (all.length === 0) return 'No failed deliveries.';
      const table = formatTable(
        ['EVENT', 'HANDLER', 'ATTEMPTS', 'FAILED AT', 'LAST ERROR'],
        shown.map((failure) => [
          failure.eventId,
          failure.handler,
          String(failure.attempts),
          failure.failedAt,
          failure.lastError,
        ]),
      );
      const more = shown.length < all.length ? ` (showing the first ${shown.length})` : '';
      return `${table}\n${all.length} failed deliveries${more}; re-drive them with retry-failed.`;
    });
  }

  @Option({ flags: '--handler <name>', description: "only this handler's failures" })
  parseHandler(raw: string): string {
    return parseName('--handler', raw);
  }

  @Option({ flags: '--tenant <uuid>', description: "only this tenant's failures" })
  parseTenant(raw: string): string {
    return parseUuid('--tenant', raw);
  }

  @Option({ flags: '--event <uuid>', description: "only this event's failures" })
  parseEvent(raw: string): string {
    return parseUuid('--event', raw);
  }

  @Option({ flags: '--limit <n>', description: 'at most this many' })
  parseLimit(raw: string): number {
    return parsePositiveInteger('--limit', raw);
  }
}
