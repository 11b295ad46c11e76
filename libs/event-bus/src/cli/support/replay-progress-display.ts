import cliProgress from 'cli-progress';
import type { ReplayProgress } from '../../core/event-bus.js';
import type { CliSession } from './cli-session.js';

/** How often a non-terminal (a log file, CI) gets a progress line. */
const PLAIN_LINE_EVERY_MS = 1000;

/**
 * Shows a replay's progress: a bar with rate and ETA (cli-progress) on a terminal; a line a
 * second on stderr when it is not one (a pipe, a log); nothing with `--json`.
 */
export interface ReplayProgressDisplay {
  update(progress: ReplayProgress): void;
  stop(): void;
}

export function createReplayProgressDisplay(session: CliSession, total: number): ReplayProgressDisplay {
  if (session.json) return { update: () => undefined, stop: () => undefined };
  return session.interactive ? new ProgressBar(session, total) : new ProgressLines(session, total);
}

class ProgressBar implements ReplayProgressDisplay {
  private readonly bar: cliProgress.SingleBar;
  private readonly started = Date.now();

  constructor(session: CliSession, total: number) {
    this.bar = new cliProgress.SingleBar(
      {
        stream: session.stderr,
        format: 'replay [{bar}] {percentage}% | {value}/{total} events | {rate} events/s | ETA {eta_formatted}',
        etaBuffer: 100,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(total, 0, { rate: '0' });
  }

  update(progress: ReplayProgress): void {
    // More than the count when events were stored during the replay.
    if (progress.read > this.bar.getTotal()) this.bar.setTotal(progress.read);
    this.bar.update(progress.read, { rate: rate(progress.read, this.started).toFixed(0) });
  }

  stop(): void {
    this.bar.stop();
  }
}

class ProgressLines implements ReplayProgressDisplay {
  private readonly started = Date.now();
  private lastLine = 0;
  private last: ReplayProgress | undefined;
  private printed: ReplayProgress | undefined;

  constructor(
    private readonly session: CliSession,
    private readonly total: number,
  ) {}

  update(progress: ReplayProgress): void {
    this.last = progress;
    const now = Date.now();
    if (now - this.lastLine < PLAIN_LINE_EVERY_MS) return;
    this.lastLine = now;
    this.print(progress);
  }

  /** The last state, unless that is what the last line said. */
  stop(): void {
    if (this.last && this.last !== this.printed) this.print(this.last);
  }

  private print(progress: ReplayProgress): void {
    this.printed = progress;
    this.session.note(describeProgress(progress, this.total, rate(progress.read, this.started)));
  }
}

/** `replay: 120/2000 events read (6%), 45 events/s, ETA 42 s, last #1234, 3 handler calls failed` */
export function describeProgress(progress: ReplayProgress, total: number, perSecond: number): string {
  const percent = total > 0 ? Math.min(100, Math.floor((progress.read / total) * 100)) : 100;
  const remaining = Math.max(0, total - progress.read);
  const eta = perSecond > 0 ? `${Math.ceil(remaining / perSecond)} s` : 'unknown';
  const failed = progress.failed > 0 ? `, ${progress.failed} handler calls failed` : '';
  return (
    `replay: ${progress.read}/${total} events read (${percent}%), ${perSecond.toFixed(0)} events/s, ` +
    `ETA ${eta}, last #${progress.lastSequence}${failed}`
  );
}

function rate(read: number, started: number): number {
  const seconds = (Date.now() - started) / 1000;
  return seconds > 0 ? read / seconds : 0;
}
