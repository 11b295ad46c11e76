import { ConsoleLogger, type LogLevel } from '@nestjs/common';

/** Nest's context of the log line that repeats a failed start-up, which the CLI reports itself. */
const BOOT_FAILURE_CONTEXT = 'ExceptionHandler';

/**
 * The app's logs in a CLI process: on stderr (stdout carries the command's result, which a script
 * may parse); warnings and errors only, one line each, unless `--verbose` (every level, stacks).
 * A failed start-up is left to the CLI's own one-line error.
 */
export class StderrLogger extends ConsoleLogger {
  constructor(private readonly everything: boolean) {
    const levels: LogLevel[] = everything
      ? ['fatal', 'error', 'warn', 'log', 'debug', 'verbose']
      : ['fatal', 'error', 'warn'];
    // Colours only for a terminal: a log file or a CI log would get escape codes.
    super('EventBusCli', { logLevels: levels, colors: process.stderr.isTTY === true });
  }

  override error(message: unknown, ...params: unknown[]): void {
    if (!this.everything && params.at(-1) === BOOT_FAILURE_CONTEXT) return;
    super.error(message, ...params);
  }

  protected override printStackTrace(stack: string): void {
    if (this.everything) super.printStackTrace(stack);
  }

  protected override printMessages(
    messages: unknown[],
    context?: string,
    logLevel?: LogLevel,
    _writeStreamType?: 'stdout' | 'stderr',
    errorStack?: unknown,
    params?: Record<string, unknown>,
  ): void {
    super.printMessages(messages, context, logLevel, 'stderr', errorStack, params);
  }
}
