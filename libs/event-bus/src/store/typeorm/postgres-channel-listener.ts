import type { LoggerService } from '@nestjs/common';
import pg from 'pg';
import type { ClientConfig, Notification } from 'pg';
import { withDeadline } from '../../shared/with-deadline.js';

const MAX_RECONNECT_DELAY_MS = 30_000;

/** What a channel listener is for, in its log lines. */
export interface ChannelListenerPurpose {
  /** E.g. 'Outbox listener'. */
  name: string;
  /** What still works while it reconnects, e.g. 'The periodic sweep keeps enqueueing stored events meanwhile.' */
  fallback: string;
}

/**
 * LISTENs on one channel over a connection of its own (a LISTEN lives on one connection). When the
 * connection drops it reconnects with a growing delay; notifications sent meanwhile are lost, so
 * every user of it has a periodic sweep as the safety net (the outbox relay, the ordered readers).
 */
export class PostgresChannelListener {
  private client?: pg.Client;
  private stopped = false;
  private reconnectTimer?: NodeJS.Timeout;
  private failures = 0;

  constructor(
    private readonly config: ClientConfig,
    private readonly channel: string,
    private readonly onPayload: (payload: string) => void,
    private readonly logger: LoggerService,
    private readonly purpose: ChannelListenerPurpose,
  ) {}

  /** Resolves once listening, or after the first failure (then it keeps retrying in the background). */
  async start(): Promise<void> {
    await this.connect();
  }

  /**
   * Ends the connection (also one still connecting), within `timeoutMs`: a PostgreSQL that hangs never
   * answers the goodbye, so past the deadline the socket is destroyed.
   */
  async stop(timeoutMs: number): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    await withDeadline(client.end(), timeoutMs, `The ${this.purpose.name}`).catch(() =>
      client.connection.stream.destroy(),
    );
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({ ...this.config, application_name: `event-bus-${this.channel}` });
    let gone = false;
    const lost = (error?: Error): void => {
      if (gone) return;
      gone = true;
      if (this.client === client) this.client = undefined;
      client.end().catch(() => undefined);
      this.scheduleReconnect(error);
    };
    client.on('notification', (message: Notification) => this.receive(message));
    client.on('error', lost);
    client.on('end', () => lost());
    // Held from the start, so `stop` can end a connection still being established too.
    this.client = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${this.channel}`);
    } catch (error) {
      lost(error as Error);
      return;
    }
    if (this.stopped) {
      gone = true;
      return; // `stop` ends it
    }
    if (this.failures > 0) this.logger.log(`${this.purpose.name} reconnected after ${this.failures} attempt(s)`);
    this.failures = 0;
  }

  private scheduleReconnect(error?: Error): void {
    if (this.stopped) return;
    this.failures += 1;
    if (this.failures === 1) {
      this.logger.warn(
        `${this.purpose.name} lost its PostgreSQL connection${error ? ` (${error.message})` : ''}; ` +
          `reconnecting. ${this.purpose.fallback}`,
      );
    }
    const delay = Math.min(500 * 2 ** (this.failures - 1), MAX_RECONNECT_DELAY_MS);
    this.reconnectTimer = setTimeout(() => void this.connect(), delay);
    this.reconnectTimer.unref();
  }

  private receive(message: Notification): void {
    if (message.channel === this.channel) this.onPayload(message.payload ?? '');
  }
}
