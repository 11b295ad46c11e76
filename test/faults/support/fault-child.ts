/**
 * A worker or publisher child process (test/faults/children/*.ts, run with the project's TypeScript
 * loader). It reports on stdout, one JSON object per line (`{ "ready": true }` once started); its
 * stderr (the library's warnings under faults) goes to a log file of the run. Its stdin is a pipe
 * it watches: if the test process dies, the pipe closes and the child kills itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../../support/wait-for.js';
import { killAndReap, type CleanupRegistry } from './cleanup-registry.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const READY_TIMEOUT_MS = 30_000;

export type ChildMessage = Record<string, unknown>;

export class FaultChild {
  readonly messages: ChildMessage[] = [];
  private exit?: { code: number | null; signal: NodeJS.Signals | null };

  private constructor(
    readonly name: string,
    readonly process: ChildProcess,
  ) {
    process.once('exit', (code, signal) => (this.exit = { code, signal }));
    createInterface({ input: process.stdout! }).on('line', (line) => {
      try {
        this.messages.push(JSON.parse(line) as ChildMessage);
      } catch {
        this.messages.push({ text: line });
      }
    });
  }

  /** Starts `script` (under test/faults/children/) and, unless `waitReady` is false, waits for its ready line. */
  static async start(
    registry: CleanupRegistry,
    options: { name: string; script: string; env: Record<string, string>; logFile: string; waitReady?: boolean },
  ): Promise<FaultChild> {
    const log = openSync(options.logFile, 'a');
    const proc = spawn(
      process.execPath,
      ['--import', './test/support/ts-loader/register.mjs', `test/faults/children/${options.script}`],
      { cwd: ROOT, env: { ...process.env, ...options.env, CHILD_NAME: options.name }, stdio: ['pipe', 'pipe', log] },
    );
    closeSync(log);
    registry.trackChild(options.name, proc);
    const child = new FaultChild(options.name, proc);
    if (options.waitReady !== false)
      await child.waitFor((message) => message.ready === true, READY_TIMEOUT_MS, 'ready');
    return child;
  }

  get pid(): number {
    return this.process.pid!;
  }

  get exited(): { code: number | null; signal: NodeJS.Signals | null } | undefined {
    return this.exit;
  }

  /** The first message matching `predicate`, waiting for it; rejects at the deadline or if the child exits first. */
  async waitFor(predicate: (message: ChildMessage) => boolean, timeoutMs: number, what: string): Promise<ChildMessage> {
    const found = await waitFor(() => this.messages.find(predicate) ?? (this.exit ? 'exited' : undefined), {
      timeoutMs,
      message: `${this.name}: ${what}`,
    });
    if (found === 'exited') {
      throw new Error(`${this.name} exited (${this.exit!.signal ?? this.exit!.code}) before "${what}"`);
    }
    return found as ChildMessage; // waitFor resolves only with a truthy value
  }

  /** Waits until the process has exited; rejects after `timeoutMs`. */
  async waitForExit(timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    await waitFor(() => this.exit !== undefined, { timeoutMs, message: `${this.name} to exit` });
    return this.exit!;
  }

  /** SIGKILL, and wait until it is reaped. */
  kill(): Promise<void> {
    return killAndReap(this.process);
  }

  /** A signal the child handles (SIGTERM: close the bus and exit). */
  signal(signal: NodeJS.Signals): void {
    this.process.kill(signal);
  }
}
