import type { DynamicModule, INestApplicationContext, Type } from '@nestjs/common';
import { CommandFactory } from 'nest-commander';
import { overrideEventBusWorker } from '../nest/worker-override.js';
import {
  CLI_EXIT,
  CliStartError,
  describeCliError,
  describeErrorAsJson,
  exitCodeFor,
  isReportedByCommander,
} from './support/cli-errors.js';
import { CliSession } from './support/cli-session.js';
import { EventBusCliModule } from './event-bus-cli.module.js';
import { StderrLogger } from './support/stderr-logger.js';

export interface EventBusCliOptions {
  /**
   * Take the queue's jobs in the CLI process too. By default the CLI boots the app with every
   * `EventBusModule`'s worker off (as `worker: false`): a `replay` or `retry-failed` run by an
   * operator must not start running the app's deliveries. @default false
   */
  consume?: boolean;
  /** The command line, as `process.argv` (the node binary, the script, then the arguments). @default process.argv */
  argv?: string[];
  /** End the process with the exit status once done. `false` only resolves to it. @default true */
  exit?: boolean;
}

/**
 * Runs the event bus's operator commands (`replay`, `failed`, `retry-failed`, `inspect`, `tail`,
 * `ordered`) in the user's own app: boots `appModule` as an application context (no HTTP server,
 * no queue consumer unless `consume`), runs the command named on the command line, closes the app.
 *
 *   // src/cli.ts
 *   import { runEventBusCli } from 'nestjs-durable-events/cli';
 *   await runEventBusCli(AppModule);
 *
 * Resolves to the exit status: 0 done, 1 the command failed (one line naming the error on stderr;
 * its stack with `--verbose`), 2 bad arguments, 130 stopped by Ctrl-C.
 */
export async function runEventBusCli(
  appModule: Type<unknown> | DynamicModule,
  options: EventBusCliOptions = {},
): Promise<number> {
  const argv = options.argv ?? process.argv;
  const args = argv.slice(2);
  // The logger is chosen before commander parses the line (the app, which holds the commands, must
  // boot first), and a failed boot is reported in the form the line asks for.
  const verbose = args.includes('--verbose');
  const session = new CliSession(process.stdout, process.stderr, { verbose });
  session.json = args.includes('--json');
  overrideEventBusWorker(options.consume === true ? undefined : false);
  let app: INestApplicationContext | undefined;
  let booted = false;
  try {
    app = await CommandFactory.createWithoutRunning(EventBusCliModule.forApp(appModule, session), {
      logger: new StderrLogger(verbose),
      // A failed boot rejects here instead of Nest ending the process with its own output.
      abortOnError: false,
      // Commander's parse errors and --help become rejections (it printed them) rather than an exit.
      errorHandler: (error) => {
        throw error;
      },
      serviceErrorHandler: (error) => {
        session.error = error;
      },
    });
    booted = true;
    const runner = app;
    await withArgv(argv, () => CommandFactory.runApplication(runner));
  } catch (error) {
    session.error ??= booted ? error : new CliStartError(error);
  } finally {
    await app?.close().catch((error: unknown) => {
      session.error ??= error;
    });
    overrideEventBusWorker(undefined);
  }
  const code = finish(session);
  if (options.exit !== false) process.exit(code);
  return code;
}

/** Reports the error, if any, and tells the exit status. */
function finish(session: CliSession): number {
  if (session.error === undefined) return session.exitCode;
  const { error } = session;
  if (!isReportedByCommander(error)) {
    session.stderr.write(
      session.json
        ? `${JSON.stringify({ error: describeErrorAsJson(error) })}\n`
        : `error: ${describeCliError(error, session.verbose)}\n`,
    );
  }
  const code = exitCodeFor(error);
  return code === CLI_EXIT.ok ? session.exitCode : code;
}

/** nest-commander parses `process.argv`; a caller's own `argv` stands in for it while the command runs. */
async function withArgv<T>(argv: string[], run: () => Promise<T>): Promise<T> {
  if (argv === process.argv) return run();
  const original = process.argv;
  process.argv = argv;
  try {
    return await run();
  } finally {
    process.argv = original;
  }
}
