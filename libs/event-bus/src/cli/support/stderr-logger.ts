import { ConsoleLogger, type LogLevel } from '@nestjs/common';

/**
 * The app's logs in a CLI process: on stderr (stdout carries the command's result, which a script
 * may parse), warnings and errors only unless `--verbose`.
 */
export class StderrLogger extends ConsoleLogger {
  constructor(verbose: boolean) {
    const levels: LogLevel[] = verbose
      ? ['fatal', 'error', 'warn', 'log', 'debug', 'verbose']
      : ['fatal', 'error', 'warn'];
    super('EventBusCli', { logLevels: levels });
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
