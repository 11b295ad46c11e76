import { setTimeout as sleep } from 'node:timers/promises';
import { Command, Option } from 'nest-commander';
import type { StoredEvent } from '../../events/domain-event.js';
import { EventStore } from '../../store/event-store.js';
import { collectNames, parseName, parsePositiveInteger, parseSequence, parseUuid } from '../support/cli-arguments.js';
import { CliSession, type CommonCliOptions } from '../support/cli-session.js';
import { EventBusCommand } from './event-bus-command.js';
import { onInterrupt } from './interrupt.js';

interface TailCliOptions extends CommonCliOptions {
  type?: string[];
  tenant?: string;
  workflow?: string;
  afterSequence?: number;
  interval?: number;
}

/** Events read per query; a full page is followed at once by the next, without waiting. */
const PAGE_SIZE = 500;
const DEFAULT_INTERVAL_MS = 1000;

@Command({
  name: 'tail',
  description: 'Follow the events as they are stored (one line each, JSON lines with --json) until Ctrl-C',
})
export class TailCommand extends EventBusCommand<TailCliOptions> {
  constructor(
    session: CliSession,
    private readonly store: EventStore,
  ) {
    super(session);
  }

  /**
   * Polls the store's gap-safe pages (`query` with `afterSequence`): a page stops before the first
   * event of a transaction still running, so the position does not jump over events about to
   * appear. Like every sequence cursor it cannot see an event that took a lower number in a
   * transaction committing after a higher-numbered one it already printed (only concurrent
   * transactions do that); a complete read is `replay`/`stream()`. Waits `--interval` between
   * polls that found nothing, never spinning.
   */
  protected async execute(_params: string[], options: TailCliOptions): Promise<void> {
    let position = options.afterSequence ?? (await this.store.lastSequence());
    const interval = options.interval ?? DEFAULT_INTERVAL_MS;
    const interrupt = onInterrupt(this.session, 'tail');
    this.session.note(`tail: following the events stored after #${position} (Ctrl-C to stop)`);
    try {
      while (!interrupt.signal.aborted) {
        const page = await this.store.query({
          afterSequence: position,
          limit: PAGE_SIZE,
          type: options.type,
          tenantId: options.tenant,
          workflowId: options.workflow,
        });
        for (const event of page) {
          this.print(event);
          position = event.sequenceNumber;
        }
        if (page.length < PAGE_SIZE)
          await sleep(interval, undefined, { signal: interrupt.signal }).catch(() => undefined);
      }
    } finally {
      interrupt.release();
    }
    this.session.note(`tail: stopped after #${position}`);
  }

  private print(event: StoredEvent): void {
    if (this.session.json) {
      this.session.stdout.write(`${JSON.stringify(event)}\n`);
      return;
    }
    const workflow = event.metadata?.workflowId ? ` workflow=${event.metadata.workflowId}` : '';
    this.session.stdout.write(
      `#${event.sequenceNumber} ${event.timestamp} ${event.type} ${event.status} tenant=${event.tenantId}${workflow} id=${event.id}\n`,
    );
  }

  @Option({ flags: '--type <type>', description: 'only this event type (repeatable)' })
  parseType(raw: string, previous?: string[]): string[] {
    return collectNames('--type', raw, previous);
  }

  @Option({ flags: '--tenant <uuid>', description: "only this tenant's events" })
  parseTenant(raw: string): string {
    return parseUuid('--tenant', raw);
  }

  @Option({ flags: '--workflow <id>', description: "only this workflow's events" })
  parseWorkflow(raw: string): string {
    return parseName('--workflow', raw);
  }

  @Option({
    flags: '--after-sequence <n>',
    description: 'start after this sequence number (default: the last one stored)',
  })
  parseAfterSequence(raw: string): number {
    return parseSequence('--after-sequence', raw);
  }

  @Option({
    flags: '--interval <ms>',
    description: `wait between polls that found nothing (default ${DEFAULT_INTERVAL_MS})`,
  })
  parseInterval(raw: string): number {
    return parsePositiveInteger('--interval', raw);
  }
}
