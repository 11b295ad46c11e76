import { Module, type DynamicModule, type Type } from '@nestjs/common';
import { CliSession } from './support/cli-session.js';
import { FailedCommand } from './commands/failed.command.js';
import { InspectCommand } from './commands/inspect.command.js';
import { OrderedCommand } from './commands/ordered.command.js';
import { ReplayCommand } from './commands/replay.command.js';
import { RetryFailedCommand } from './commands/retry-failed.command.js';
import { TailCommand } from './commands/tail.command.js';

export const EVENT_BUS_COMMANDS = [
  ReplayCommand,
  FailedCommand,
  RetryFailedCommand,
  InspectCommand,
  TailCommand,
  OrderedCommand,
];

/**
 * The user's own AppModule with the commands beside it: they inject the `EventBus`, `EventStore`
 * and `SubscriptionManager` the app's `EventBusModule` provides (global), so a replay reaches the
 * app's real `@OnEvent` handlers.
 */
@Module({})
export class EventBusCliModule {
  static forApp(appModule: Type<unknown> | DynamicModule, session: CliSession): DynamicModule {
    return {
      module: EventBusCliModule,
      imports: [appModule],
      providers: [{ provide: CliSession, useValue: session }, ...EVENT_BUS_COMMANDS],
    };
  }
}
