/**
 * A command of a CLI entry point of this repository run as a child process, as an operator runs
 * it: stdout (the result, JSON with `--json`) and stderr (progress, notes, errors) kept apart.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../support/wait-for.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface CliRun {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (a signal that ended it reads as null). */
  readonly exited: Promise<number | null>;
  /** Waits until stderr or stdout contains `text`; fails if the process exits first. */
  waitForOutput(text: string, timeoutMs: number): Promise<void>;
  killIfRunning(): void;
}

export function startCli(entry: string, args: string[], env: NodeJS.ProcessEnv): CliRun {
  const child = spawn(process.execPath, ['--import', './test/support/ts-loader/register.mjs', entry, ...args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    async waitForOutput(text, timeoutMs) {
      const seen = () => stdout.includes(text) || stderr.includes(text);
      await waitFor(() => seen() || child.exitCode !== null, {
        timeoutMs,
        message: `"${text}" from ${args.join(' ')}`,
      });
      if (!seen()) throw new Error(`${args.join(' ')} exited before writing "${text}":\n${stdout}\n${stderr}`);
    },
    killIfRunning() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end. */
export async function runCli(entry: string, args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  const run = startCli(entry, args, env);
  try {
    const code = await run.exited;
    return { code, stdout: run.stdout(), stderr: run.stderr() };
  } finally {
    run.killIfRunning();
  }
}
