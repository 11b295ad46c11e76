import { Command, Option } from 'nest-commander';
import { EventBus, type FailedDelivery } from '../../core/event-bus.js';
import type { StoredEvent } from '../../events/domain-event.js';
import { parseUuid } from '../support/cli-arguments.js';
import { CliNotFoundError } from '../support/cli-errors.js';
import { CliSession, type CommonCliOptions } from '../support/cli-session.js';
import { formatTable } from '../support/text-table.js';
import { EventBusCommand } from './event-bus-command.js';

interface InspectCliOptions extends CommonCliOptions {
  tenant?: string;
}

/** One event of `inspect --json`. */
export interface InspectedEvent {
  sequenceNumber: number;
  id: string;
  type: string;
  status: StoredEvent['status'];
  timestamp: string;
  tenantId: string;
  failures: Omit<FailedDelivery, 'eventId'>[];
}

@Command({
  name: 'inspect',
  arguments: '<workflowId>',
  description: "A workflow's events in order, with their status and the handler deliveries that failed",
})
export class InspectCommand extends EventBusCommand<InspectCliOptions> {
  constructor(
    session: CliSession,
    private readonly bus: EventBus,
  ) {
    super(session);
  }

  protected async execute([workflowId]: string[], options: InspectCliOptions): Promise<void> {
    const events = await this.bus.getEventsByWorkflowId(workflowId, { tenantId: options.tenant });
    if (events.length === 0) {
      const tenant = options.tenant ? ` of tenant ${options.tenant}` : '';
      throw new CliNotFoundError(`No events are stored for workflow "${workflowId}"${tenant}`);
    }
    const inspected: InspectedEvent[] = [];
    for (const event of events) {
      // Only a failed event has failure records worth a query.
      const failures = event.status === 'failed' ? await this.bus.getFailedDeliveries({ eventId: event.id }) : [];
      inspected.push({
        sequenceNumber: event.sequenceNumber,
        id: event.id,
        type: event.type,
        status: event.status,
        timestamp: event.timestamp,
        tenantId: event.tenantId,
        failures: failures.map(({ handler, attempts, lastError, failedAt }) => ({
          handler,
          attempts,
          lastError,
          failedAt,
        })),
      });
    }
    this.session.result({ workflowId, events: inspected }, () => describeWorkflow(workflowId, inspected));
  }

  @Option({ flags: '--tenant <uuid>', description: "only this tenant's events of the workflow" })
  parseTenant(raw: string): string {
    return parseUuid('--tenant', raw);
  }
}

function describeWorkflow(workflowId: string, events: InspectedEvent[]): string {
  const rows: string[][] = [];
  for (const event of events) {
    rows.push([`#${event.sequenceNumber}`, event.type, event.status, event.timestamp, event.id]);
    for (const failure of event.failures) {
      rows.push(['', `  ✗ ${failure.handler}`, `${failure.attempts} attempts`, failure.failedAt, failure.lastError]);
    }
  }
  const failed = events.filter((event) => event.status === 'failed').length;
  return (
    `Workflow ${workflowId}: ${events.length} events, ${failed} failed\n` +
    formatTable(['SEQ', 'TYPE', 'STATUS', 'TIMESTAMP', 'ID / ERROR'], rows)
  );
}
