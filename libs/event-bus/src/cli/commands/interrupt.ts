import type { CliSession } from '../support/cli-session.js';
import { CLI_EXIT } from '../support/cli-errors.js';

/**
 * Ctrl-C for a long command: the first SIGINT aborts the returned signal (the command stops at a
 * safe point and reports how far it got); a second one exits at once. `release()` gives SIGINT
 * back to its default once the command is done.
 */
export function onInterrupt(session: CliSession, what: string): { signal: AbortSignal; release(): void } {
  const controller = new AbortController();
  const listener = (): void => {
    if (controller.signal.aborted) {
      session.note(`${what}: interrupted again, exiting at once`);
      process.exit(CLI_EXIT.interrupted);
    }
    session.note(`${what}: stopping (Ctrl-C again to exit at once)`);
    controller.abort();
  };
  process.on('SIGINT', listener);
  return { signal: controller.signal, release: () => process.off('SIGINT', listener) };
}
