import { EventBusError } from '../../shared/errors.js';

/** A command line the CLI cannot act on: a missing or malformed argument, an unknown handler name. */
export class CliUsageError extends EventBusError {
  constructor(
    readonly argument: string,
    problem: string,
  ) {
    super(`${argument} ${problem}`);
  }
}

/** What was asked for does not exist (a workflow without events). */
export class CliNotFoundError extends EventBusError {}

/**
 * The app did not start (its database unreachable, its schema not migrated, …). The app's own
 * error, a library error or not, is the `cause`, and its message is repeated in this one.
 */
export class CliStartError extends EventBusError {
  constructor(cause: unknown) {
    const reason =
      cause instanceof EventBusError
        ? `${cause.constructor.name}: ${cause.message}`
        : cause instanceof Error
          ? cause.message
          : String(cause);
    super(`The app did not start: ${reason.split('\n')[0]}`, { cause });
  }
}

/** The exit statuses of `runEventBusCli`. */
export const CLI_EXIT = {
  ok: 0,
  /** The command failed: the library's error (store unreachable, unknown ordered handler, …). */
  failed: 1,
  /** Bad arguments. */
  usage: 2,
  /** Stopped by Ctrl-C (128 + SIGINT), as shells report it. */
  interrupted: 130,
} as const;

/** Commander's own parse errors (unknown option, missing argument) carry a code like `commander.unknownOption`. */
function isCommanderError(error: unknown): error is Error & { code: string; exitCode: number } {
  const code: unknown = error instanceof Error ? (error as Error & { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('commander.');
}

/** The exit status an error ends the CLI with. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof CliUsageError) return CLI_EXIT.usage;
  if (isCommanderError(error)) return error.exitCode === 0 ? CLI_EXIT.ok : CLI_EXIT.usage;
  return CLI_EXIT.failed;
}

/** Whether commander already printed this error itself (its parse errors, `--help`). */
export function isReportedByCommander(error: unknown): boolean {
  return isCommanderError(error);
}

/**
 * One line for the operator: the error's class and message (and its cause's), no stack. The
 * library's errors are written to be read (they name what is wrong); `--verbose` adds the stack.
 */
export function describeCliError(error: unknown, verbose: boolean): string {
  if (!(error instanceof Error)) return String(error);
  if (verbose) return error.stack ?? `${error.name}: ${error.message}`;
  const name = error.constructor.name === 'Error' ? '' : `${error.constructor.name}: `;
  // A start error already says its cause.
  const cause =
    error.cause instanceof Error && !(error instanceof CliStartError) ? ` (cause: ${error.cause.message})` : '';
  return `${name}${error.message.split('\n')[0]}${cause}`;
}

/** The error of `--json` output: `{ name, message }`, the message's first line (no stack). */
export function describeErrorAsJson(error: unknown): { name: string; message: string } {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  return { name: error.constructor.name, message: error.message.split('\n')[0] };
}
