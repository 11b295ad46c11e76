import { Command, Option } from 'nest-commander';
import { EventBus, type OrderedHandlerState } from '../../core/event-bus.js';
import { parseDateOrBeginning, parseName } from '../support/cli-arguments.js';
import { CliUsageError } from '../support/cli-errors.js';
import { CliSession, type CommonCliOptions } from '../support/cli-session.js';
import { formatTable } from '../support/text-table.js';
import { EventBusCommand } from './event-bus-command.js';

interface OrderedCliOptions extends CommonCliOptions {
  reset?: string;
  from?: Date | 'beginning';
}

@Command({
  name: 'ordered',
  description: 'List the ordered handlers (position, lag, parked, owners), or --reset one to feed it again',
})
export class OrderedCommand extends EventBusCommand<OrderedCliOptions> {
  constructor(
    session: CliSession,
    private readonly bus: EventBus,
  ) {
    super(session);
  }

  protected async execute(_params: string[], options: OrderedCliOptions): Promise<void> {
    if (options.reset === undefined) {
      if (options.from !== undefined) throw new CliUsageError('--from', 'is only taken with --reset NAME');
      const handlers = await this.bus.getOrderedHandlers();
      this.session.result(handlers, () => describeOrdered(handlers));
      return;
    }
    const from = options.from ?? 'beginning';
    await this.bus.resetOrderedHandler(options.reset, { from });
    const since = from === 'beginning' ? 'beginning' : from.toISOString();
    this.session.result(
      { reset: options.reset, from: since },
      () => `Ordered handler ${options.reset} is fed again from ${from === 'beginning' ? 'the first event' : since}.`,
    );
  }

  @Option({ flags: '--reset <name>', description: 'move this ordered handler back, so it is fed again' })
  parseReset(raw: string): string {
    return parseName('--reset', raw);
  }

  @Option({ flags: '--from <iso|beginning>', description: "with --reset: where it starts again (default 'beginning')" })
  parseFrom(raw: string): Date | 'beginning' {
    return parseDateOrBeginning('--from', raw);
  }
}

function describeOrdered(handlers: OrderedHandlerState[]): string {
  if (handlers.length === 0) return 'No ordered handlers (none is declared with { ordered: true }).';
  return formatTable(
    ['HANDLER', 'POSITION', 'LAG', 'PARKED', 'OWNERS'],
    handlers.map((state) => [
      state.handler,
      state.position ? `#${state.position.sequenceNumber} (tx ${state.position.transactionId})` : '-',
      String(state.lag),
      String(state.parked),
      state.owners.join(', ') || '-',
    ]),
  );
}
