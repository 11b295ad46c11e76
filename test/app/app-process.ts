/**
 * A TypeScript entry point of this repository run as a child process, the way a person runs the
 * sample app: its output collected, its exit awaitable. The test kills it if it is still running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../support/wait-for.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface AppProcess {
  readonly child: ChildProcess;
  /** Everything it wrote so far, stdout and stderr interleaved. */
  output(): string;
  /** Resolves with its exit code and signal. */
  readonly exited: Promise<[number | null, NodeJS.Signals | null]>;
  /** Waits until its output contains `text` (or it exits first), then expects it there. */
  waitForOutput(text: string, timeoutMs: number): Promise<void>;
  /** SIGKILL, unless it has already exited. */
  killIfRunning(): void;
}

/** Runs `entry` (a path from the repository's root) with the project's TypeScript loader. */
export function startAppProcess(entry: string, env: NodeJS.ProcessEnv): AppProcess {
  const child = spawn(process.execPath, ['--import', './test/support/ts-loader/register.mjs', entry], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  return {
    child,
    output: () => output,
    exited,
    async waitForOutput(text, timeoutMs) {
      await waitFor(() => output.includes(text) || child.exitCode !== null, {
        timeoutMs,
        message: `"${text}" in the output of ${entry}`,
      });
      if (!output.includes(text)) throw new Error(`${entry} exited before writing "${text}":\n${output}`);
    },
    killIfRunning() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
