import { Command, Option } from 'nest-commander';
import { EventBus } from '../../core/event-bus.js';
import { parseName, parseUuid } from '../support/cli-arguments.js';
import { CliSession } from '../support/cli-session.js';
import { EventBusCommand } from './event-bus-command.js';
import { failedFilterOf, type FailedFilterCliOptions } from './failed-filter-options.js';

@Command({
  name: 'retry-failed',
  description: "Re-drive failed deliveries (each with a fresh retry policy); the app's workers run them",
})
export class RetryFailedCommand extends EventBusCommand<FailedFilterCliOptions> {
  constructor(
    session: CliSession,
    private readonly bus: EventBus,
  ) {
    super(session);
  }

  protected async execute(_params: string[], options: FailedFilterCliOptions): Promise<void> {
    const retried = await this.bus.retryFailed(failedFilterOf(options));
    this.session.result({ retried }, () =>
      retried === 0
        ? 'No failed deliveries to re-drive.'
        : retried === 1
          ? "Re-drove 1 failed delivery; the app's workers deliver it again."
          : `Re-drove ${retried} failed deliveries; the app's workers deliver them again.`,
    );
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
}
