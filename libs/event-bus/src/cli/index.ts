// The public API of @app/event-bus/cli (`nestjs-durable-events/cli`): the operator commands for a user's own app.
// A separate entry point, so that nest-commander and cli-progress stay optional for apps without the CLI.
export { runEventBusCli, type EventBusCliOptions } from './run-event-bus-cli.js';
export { CLI_EXIT, CliNotFoundError, CliStartError, CliUsageError } from './support/cli-errors.js';
export type { ReplaySummary } from './support/replay-summary.js';
export type { InspectedEvent } from './commands/inspect.command.js';
