import { CommandRunner, Option } from 'nest-commander';
import type { CliSession, CommonCliOptions } from '../support/cli-session.js';

/**
 * What every command shares: `--json` and `--verbose`, and the session it writes to. A command's
 * errors are thrown: `runEventBusCli` reports them as one line once the app has closed.
 */
export abstract class EventBusCommand<O extends CommonCliOptions = CommonCliOptions> extends CommandRunner {
  constructor(protected readonly session: CliSession) {
    super();
  }

  /**
   * nest-commander sets its error handler on the root program only; a subcommand's own parse errors
   * (a missing required option, a bad value) and its `--help` would end the process on the spot,
   * skipping the app's close and the exit status. Thrown instead, they reach `runEventBusCli`.
   */
  override setCommand(command: Parameters<CommandRunner['setCommand']>[0]): this {
    command.exitOverride((error) => {
      throw error;
    });
    return super.setCommand(command);
  }

  async run(params: string[], options?: O): Promise<void> {
    const given = options ?? ({} as O);
    this.session.begin(given);
    await this.execute(params, given);
  }

  protected abstract execute(params: string[], options: O): Promise<void>;

  @Option({ flags: '--json', description: 'print JSON for scripts (progress and notes stay on stderr)' })
  parseJson(): boolean {
    return true;
  }

  @Option({ flags: '--verbose', description: "show the app's logs, and the stack of an error" })
  parseVerbose(): boolean {
    return true;
  }
}
