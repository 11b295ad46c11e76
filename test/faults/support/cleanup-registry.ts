/**
 * Everything a fault scenario starts (child processes, servers, temp dirs, connections) is registered
 * here as it is created, and `cleanup()` undoes all of it, newest first, also when the test failed
 * half-way. One registry per test file, emptied in `afterAll` (and in `afterEach` for per-test parts).
 */
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { OrphanGuard } from './orphan-guard.js';

type Cleanup = () => Promise<void> | void;

/** How long a SIGKILLed child may take to be reaped before cleanup moves on. */
const EXIT_WAIT_MS = 5_000;

export class CleanupRegistry {
  private readonly cleanups: { name: string; run: Cleanup }[] = [];
  private guard?: OrphanGuard;

  /** Registers an undo step; returns a function that runs it now (once) and unregisters it. */
  add(name: string, run: Cleanup): () => Promise<void> {
    const entry = { name, run };
    this.cleanups.push(entry);
    return async () => {
      const index = this.cleanups.indexOf(entry);
      if (index < 0) return;
      this.cleanups.splice(index, 1);
      await run();
    };
  }

  /** A child process is SIGKILLed (and reaped) at cleanup unless it has exited by then. */
  trackChild(name: string, child: ChildProcess): void {
    const remove = this.add(`child ${name}`, () => killAndReap(child));
    child.once('exit', () => void remove());
  }

  /**
   * A server process (PostgreSQL, Redis) that must not outlive the test process even if that dies
   * without cleanup (see orphan-reaper.mjs); `forgetServer` once it has stopped.
   */
  watchServer(pid: number | undefined, signal: NodeJS.Signals = 'SIGKILL'): void {
    this.guard ??= new OrphanGuard();
    this.guard.watch(pid, signal);
  }

  forgetServer(pid: number | undefined): void {
    this.guard?.forget(pid);
  }

  /** A temp dir: removed at cleanup, or by the orphan reaper if the test process dies first. */
  addDir(name: string, path: string): void {
    this.guard ??= new OrphanGuard();
    this.guard.watchDir(path);
    this.add(name, () => {
      rmSync(path, { recursive: true, force: true });
      this.guard?.forgetDir(path);
    });
  }

  /** Runs every registered step, newest first; a failing step does not stop the others. */
  async cleanup(): Promise<void> {
    const errors: string[] = [];
    while (this.cleanups.length > 0) {
      const { name, run } = this.cleanups.pop()!;
      try {
        await run();
      } catch (error) {
        errors.push(`${name}: ${(error as Error).message}`);
      }
    }
    await this.guard?.close();
    this.guard = undefined;
    if (errors.length > 0) throw new Error(`Fault suite cleanup failed:\n${errors.join('\n')}`);
  }
}

export async function killAndReap(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, EXIT_WAIT_MS)))]);
  clearTimeout(timer);
}
