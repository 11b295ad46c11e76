/**
 * Start-up against a queue that does not answer yet (Redis down, a wrong address). Start-up does not
 * wait for it — publishing stores events, the relay enqueues them later — but whatever needs the
 * queue (the worker) starts only once it answers. Until then this asks at growing intervals, one log
 * line per attempt: a wrong address shows in the log without a stack trace every second.
 */
import type { LoggerService } from '@nestjs/common';

export interface QueueStartRetryDeps {
  /** The queue, as log lines name it: `The event queue "workflow-events"`. */
  what: string;
  /** Whether the queue answers now; bounded by the caller, never rejects. */
  probe: () => Promise<boolean>;
  /** Why it did not answer last, when known (the connection's last error). */
  lastError: () => string | undefined;
  /** Runs once the queue answers (starting the worker); bounded by the caller. */
  onReachable: () => Promise<void>;
  logger: LoggerService;
  /** Delay before the second attempt, in ms; doubled after each, up to `maxDelayMs`. @default 1000 */
  firstDelayMs?: number;
  /** @default 30000 */
  maxDelayMs?: number;
}

export class QueueStartRetry {
  private timer?: NodeJS.Timeout;
  private attempting?: Promise<void>;
  /** The first attempt was start-up's own wait; this counts the ones after it. */
  private attempts = 1;
  private stopped = false;
  private reached = false;

  constructor(private readonly deps: QueueStartRetryDeps) {}

  /** True until the queue answered (or `stop` was called). */
  get waiting(): boolean {
    return !this.reached && !this.stopped;
  }

  start(): void {
    this.schedule();
  }

  /** Cancels the next attempt and waits for one in progress (each is bounded). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.attempting;
  }

  private delayMs(): number {
    const { firstDelayMs = 1000, maxDelayMs = 30_000 } = this.deps;
    return Math.min(firstDelayMs * 2 ** (this.attempts - 1), maxDelayMs);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.attempting = this.attempt().finally(() => (this.attempting = undefined));
    }, this.delayMs());
    // Not what keeps a process alive: a process with nothing else to do may end.
    this.timer.unref();
  }

  private async attempt(): Promise<void> {
    this.attempts += 1;
    const answered = await this.deps.probe();
    if (this.stopped) return;
    if (!answered) {
      const reason = this.deps.lastError();
      this.deps.logger.warn(
        `${this.deps.what} still does not answer${reason ? ` (${reason})` : ''}; attempt ${this.attempts}, next in ` +
          `${Math.round(this.delayMs() / 1000)} s. Events are stored meanwhile; this process consumes once it answers.`,
      );
      this.schedule();
      return;
    }
    this.reached = true;
    this.deps.logger.log(`${this.deps.what} answers after ${this.attempts} attempts.`);
    await this.deps.onReachable();
  }
}
