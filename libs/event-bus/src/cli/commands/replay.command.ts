import { Command, Option } from 'nest-commander';
import { EventBus, type ReplayOptions, type ReplayProgress } from '../../core/event-bus.js';
import { EventStore } from '../../store/event-store.js';
import { SubscriptionManager } from '../../subscriptions/subscription-manager.js';
import {
  checkRange,
  collectNames,
  parseIsoDate,
  parseName,
  parseSequence,
  parseUuid,
} from '../support/cli-arguments.js';
import { CLI_EXIT, CliUsageError } from '../support/cli-errors.js';
import { CliSession } from '../support/cli-session.js';
import {
  describeReplay,
  replayOptionsOf,
  resumeCommand,
  type ReplayCliOptions,
  type ReplaySummary,
} from '../support/replay-summary.js';
import { createReplayProgressDisplay } from '../support/replay-progress-display.js';
import { EventBusCommand } from './event-bus-command.js';
import { onInterrupt } from './interrupt.js';

@Command({
  name: 'replay',
  description:
    'Re-deliver stored events (timestamp >= --from) to the handlers that take part in replays, in this ' +
    'process; a progress bar with rate and ETA; Ctrl-C stops after the running event and says how to resume',
})
export class ReplayCommand extends EventBusCommand<ReplayCliOptions> {
  constructor(
    session: CliSession,
    private readonly bus: EventBus,
    private readonly store: EventStore,
    private readonly subscriptions: SubscriptionManager,
  ) {
    super(session);
  }

  protected async execute(_params: string[], options: ReplayCliOptions): Promise<void> {
    checkRange(options.from, options.to);
    this.checkHandlers(options.handler);
    const replay: ReplayOptions = replayOptionsOf(options);
    const total = await this.store.count({
      from: options.from,
      to: replay.to,
      type: replay.types,
      tenantId: replay.tenantId,
      workflowId: replay.workflowId,
      afterSequence: replay.afterSequence,
    });
    const display = createReplayProgressDisplay(this.session, total);
    const interrupt = onInterrupt(this.session, 'replay');
    let last: ReplayProgress = { read: 0, events: 0, handlerCalls: 0, failed: 0, lastSequence: 0 };
    let stopped: boolean;
    try {
      const result = await this.bus.replayEvents(options.from, {
        ...replay,
        signal: interrupt.signal,
        // Every event: the display throttles itself, and a stop must know the last event exactly.
        progressEvery: 1,
        onProgress: (progress) => {
          last = progress;
          display.update(progress);
        },
      });
      stopped = result.stopped === true;
    } finally {
      display.stop();
      interrupt.release();
    }
    const summary: ReplaySummary = { total, ...last, stopped };
    if (stopped) {
      summary.resume = resumeCommand(options, last.lastSequence);
      this.session.exitCode = CLI_EXIT.interrupted;
    } else if (last.failed > 0) {
      this.session.exitCode = CLI_EXIT.failed;
    }
    this.session.result(summary, () => describeReplay(summary));
  }

  /** A `--handler` must name a handler that takes part in replays: a typo would replay to nobody. */
  private checkHandlers(names: string[] | undefined): void {
    if (!names) return;
    const replayable = this.subscriptions
      .all()
      .filter((handler) => handler.replay)
      .map((handler) => handler.name);
    const unknown = names.filter((name) => !replayable.includes(name));
    if (unknown.length > 0) {
      throw new CliUsageError(
        '--handler',
        `names no handler that takes part in replays: ${unknown.join(', ')} ` +
          `(replayable: ${replayable.length > 0 ? replayable.join(', ') : 'none'})`,
      );
    }
  }

  @Option({ flags: '--from <iso>', description: 'events with timestamp >= this date (required)', required: true })
  parseFrom(raw: string): Date {
    return parseIsoDate('--from', raw);
  }

  @Option({ flags: '--to <iso>', description: 'events with timestamp < this date' })
  parseTo(raw: string): Date {
    return parseIsoDate('--to', raw);
  }

  @Option({ flags: '--type <type>', description: 'only this event type (repeatable)' })
  parseType(raw: string, previous?: string[]): string[] {
    return collectNames('--type', raw, previous);
  }

  @Option({ flags: '--workflow <id>', description: "only this workflow's events" })
  parseWorkflow(raw: string): string {
    return parseName('--workflow', raw);
  }

  @Option({ flags: '--tenant <uuid>', description: "only this tenant's events" })
  parseTenant(raw: string): string {
    return parseUuid('--tenant', raw);
  }

  @Option({ flags: '--handler <name>', description: 'only this handler (repeatable; default: every replayable one)' })
  parseHandler(raw: string, previous?: string[]): string[] {
    return collectNames('--handler', raw, previous);
  }

  @Option({ flags: '--after-sequence <n>', description: 'only events after this sequence number (to resume)' })
  parseAfterSequence(raw: string): number {
    return parseSequence('--after-sequence', raw);
  }
}
