import type { Writable } from 'node:stream';
import { CLI_EXIT } from './cli-errors.js';

/** The options every command takes. */
export interface CommonCliOptions {
  /** One JSON document on stdout (JSON lines for `tail`), no tables, no progress bar. */
  json?: boolean;
  /** Log everything the app logs, and stacks with errors. */
  verbose?: boolean;
}

/**
 * One run of the CLI: where it writes and how it ends. Results go to stdout (a table, a line, or
 * JSON with `--json`); progress, notes and errors to stderr, so `--json` output stays parseable.
 */
export class CliSession {
  exitCode: number = CLI_EXIT.ok;
  /** The error the command (or commander's parsing) ended with, reported once the app closed. */
  error: unknown;
  json = false;
  verbose: boolean;

  constructor(
    readonly stdout: Writable,
    readonly stderr: Writable,
    options: { verbose: boolean },
  ) {
    this.verbose = options.verbose;
  }

  /** Takes the common options of the command being run. */
  begin(options: CommonCliOptions): void {
    this.json = options.json === true;
    this.verbose ||= options.verbose === true;
  }

  /** A result: `json` as one line of JSON with `--json`, else the text. */
  result(json: unknown, text: () => string): void {
    this.stdout.write(this.json ? `${JSON.stringify(json)}\n` : `${text()}\n`);
  }

  /** A line for the operator (progress, a hint), on stderr. */
  note(text: string): void {
    this.stderr.write(`${text}\n`);
  }

  /** Whether a progress bar can be drawn: stderr is a terminal and no `--json`. */
  get interactive(): boolean {
    return !this.json && (this.stderr as Writable & { isTTY?: boolean }).isTTY === true;
  }
}
