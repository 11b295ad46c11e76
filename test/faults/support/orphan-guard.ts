/**
 * Keeps the scenario's servers from outliving a test process that dies without cleaning up: each
 * running server's pid is listed with orphan-reaper.mjs (see there). Closing the guard (at cleanup,
 * after the servers were stopped) ends the reaper.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const REAPER = fileURLToPath(new URL('./orphan-reaper.mjs', import.meta.url));

export class OrphanGuard {
  private readonly reaper: ChildProcess = spawn(process.execPath, [REAPER], {
    stdio: ['pipe', 'ignore', 'inherit'],
    // Its own process group: a Ctrl-C or a group kill of the test run must leave it to do its job.
    detached: true,
  });

  /** `signal` is what stops the process and its own children (SIGQUIT for a postmaster: immediate shutdown). */
  watch(pid: number | undefined, signal: NodeJS.Signals = 'SIGKILL'): void {
    if (pid !== undefined) this.reaper.stdin!.write(`+${pid} ${signal}\n`);
  }

  /** The process has stopped: its pid may be reused, and must not be signalled any more. */
  forget(pid: number | undefined): void {
    if (pid !== undefined) this.reaper.stdin!.write(`-${pid}\n`);
  }

  /** A temp dir to remove if the test process dies first; `forgetDir` once removed. */
  watchDir(path: string): void {
    this.reaper.stdin!.write(`+dir ${path}\n`);
  }

  forgetDir(path: string): void {
    this.reaper.stdin!.write(`-dir ${path}\n`);
  }

  async close(): Promise<void> {
    if (this.reaper.exitCode !== null || this.reaper.signalCode !== null) return;
    const exited = once(this.reaper, 'exit');
    this.reaper.stdin!.end();
    await exited;
  }
}
