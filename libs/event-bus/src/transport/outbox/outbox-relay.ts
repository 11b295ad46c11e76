/**
 * The outbox relay: enqueues stored events that `publish` could not enqueue itself — the queue was
 * down or slow, the process died in between, or the event was published inside the caller's
 * transaction (it may be enqueued only once that transaction commits). Runs in every process that
 * has the bus; relays in many processes share the rows through `FOR UPDATE SKIP LOCKED`.
 */
import type { LoggerService } from '@nestjs/common';
import type { Outbox, OutboxListener, OutboxNotice } from '../../core/ports/outbox.js';
import type { StoredEvent } from '../../events/domain-event.js';
import { withDeadline } from '../../shared/with-deadline.js';

/** What the relay hands claimed events to: the transport's enqueue (job ids in input order). */
export interface RelayEnqueuer {
  enqueue(events: readonly StoredEvent[]): Promise<string[]>;
}

export interface OutboxRelaySettings {
  /** Period of the sweep, in ms. */
  intervalMs: number;
  /** Rows claimed per transaction. */
  batchSize: number;
  /** A sweep takes only rows older than this, so it does not race an in-flight `publish`, in ms. */
  graceMs: number;
  /** LISTEN for transactional publishes (off: the sweep alone finds them). */
  listen: boolean;
}

export const DEFAULT_RELAY_SETTINGS: Readonly<OutboxRelaySettings> = Object.freeze({
  intervalMs: 1000,
  batchSize: 500,
  graceMs: 2000,
  listen: true,
});

export class OutboxRelay {
  private readonly listener?: OutboxListener;
  private readonly notifiedIds = new Set<string>();
  private sweepRequested = false;
  private takeAllRequested = false;
  private running?: Promise<void>;
  private again = false;
  private timer?: NodeJS.Timeout;
  private started = false;
  private closing = false;
  private failing = false;

  constructor(
    private readonly outbox: Outbox,
    private readonly enqueuer: RelayEnqueuer,
    private readonly settings: OutboxRelaySettings,
    private readonly logger: LoggerService,
  ) {
    if (settings.listen) {
      this.listener = outbox.listener((notice) => this.notice(notice), logger);
    }
  }

  /** Starts sweeping; waits at most `timeoutMs` for the listener (it keeps connecting on its own). */
  async start(timeoutMs: number): Promise<void> {
    if (this.started || this.closing) return;
    this.started = true;
    if (this.listener)
      await withDeadline(this.listener.start(), timeoutMs, 'The outbox listener').catch(() => undefined);
    this.timer = setInterval(() => this.requestSweep(), this.settings.intervalMs);
    this.timer.unref();
    // Rows left behind by an earlier run (a crash between INSERT and enqueue) go out at once.
    this.requestSweep();
  }

  /**
   * Stops the timer and the listener, and waits for a round in progress — at most `timeoutMs` each, so a
   * PostgreSQL or queue that hangs cannot hold shutdown. An abandoned round's transaction rolls back
   * when its connection closes; its rows stay un-enqueued for the next relay.
   */
  async stop(timeoutMs: number): Promise<void> {
    this.closing = true;
    clearInterval(this.timer);
    const round = this.running;
    await Promise.all([
      this.listener?.stop(timeoutMs),
      round &&
        withDeadline(round, timeoutMs, 'The outbox relay').catch((error: Error) => {
          this.logger.warn(`${error.message} while stopping; its rows stay stored for the next relay.`);
        }),
    ]);
  }

  /** Takes every un-enqueued row now, whatever its age, and resolves when done (scripts and tests). */
  async flush(): Promise<void> {
    this.sweepRequested = true;
    this.takeAllRequested = true;
    this.kick(true);
    await this.running;
  }

  private notice(notice: OutboxNotice): void {
    if ('all' in notice) this.takeAllRequested = true;
    else for (const id of notice.ids) this.notifiedIds.add(id);
    this.kick();
  }

  private requestSweep(): void {
    this.sweepRequested = true;
    this.kick();
  }

  /** One round at a time per process; a request during a round makes it run again. */
  private kick(force = false): void {
    if (this.closing || (!this.started && !force)) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.rounds().finally(() => (this.running = undefined));
  }

  private async rounds(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.round();
        this.recovered();
      } catch (error) {
        this.failed(error as Error);
        return; // the next tick tries again; no tight loop against a dead queue or database
      }
    } while (this.again);
  }

  private async round(): Promise<void> {
    const ids = [...this.notifiedIds];
    this.notifiedIds.clear();
    for (let start = 0; start < ids.length; start += this.settings.batchSize) {
      await this.claimAndEnqueue(0, ids.slice(start, start + this.settings.batchSize));
    }
    if (this.takeAllRequested || this.sweepRequested) {
      // Committed transactional publishes may be taken at once; a periodic sweep leaves young rows
      // to the publish that is enqueueing them right now.
      const graceMs = this.takeAllRequested ? 0 : this.settings.graceMs;
      this.takeAllRequested = false;
      this.sweepRequested = false;
      while ((await this.claimAndEnqueue(graceMs)) === this.settings.batchSize && !this.closing) {
        // a full batch: there may be more
      }
    }
  }

  /** Claims up to one batch, enqueues it and records the job ids, in one transaction. Returns how many. */
  private claimAndEnqueue(graceMs: number, ids?: string[]): Promise<number> {
    return this.outbox.claimPending({ batchSize: this.settings.batchSize, olderThanMs: graceMs, ids }, (events) =>
      this.enqueuer.enqueue(events),
    );
  }

  private failed(error: Error): void {
    if (this.failing) return;
    this.failing = true;
    this.logger.warn(
      `Outbox relay could not enqueue stored events (${error.message}); they stay stored and are retried every ` +
        `${this.settings.intervalMs} ms.`,
    );
  }

  private recovered(): void {
    if (!this.failing) return;
    this.failing = false;
    this.logger.log('Outbox relay is enqueueing stored events again');
  }
}
