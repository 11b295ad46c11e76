import type { LoggerService } from '@nestjs/common';
import pg from 'pg';
import type { ClientConfig, Notification } from 'pg';
import { isUuid } from '../../events/uuid.js';
import { withDeadline } from '../../shared/with-deadline.js';
import type { OutboxListener, OutboxNotice } from '../../core/ports/outbox.js';
import { OUTBOX_CHANNEL } from './schema/notify-outbox.sql.js';

const MAX_RECONNECT_DELAY_MS = 30_000;

/**
 * LISTENs on the outbox channel over a connection of its own (a LISTEN lives on one connection).
 * When the connection drops it reconnects with a growing delay; notifications sent meanwhile are
 * lost, which is fine: the relay's periodic sweep finds those rows anyway.
 */
export class PostgresOutboxListener implements OutboxListener {
  private client?: pg.Client;
  private stopped = false;
  private reconnectTimer?: NodeJS.Timeout;
  private failures = 0;

  constructor(
    private readonly config: ClientConfig,
    private readonly onNotice: (notice: OutboxNotice) => void,
    private readonly logger: LoggerService,
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
    await withDeadline(client.end(), timeoutMs, 'The outbox listener').catch(() => client.connection.stream.destroy());
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({ ...this.config, application_name: 'event-bus-outbox-listener' });
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
      await client.query(`LISTEN ${OUTBOX_CHANNEL}`);
    } catch (error) {
      lost(error as Error);
      return;
    }
    if (this.stopped) {
      gone = true;
      return; // `stop` ends it
    }
    if (this.failures > 0) this.logger.log(`Outbox listener reconnected after ${this.failures} attempt(s)`);
    this.failures = 0;
  }

  private scheduleReconnect(error?: Error): void {
    if (this.stopped) return;
    this.failures += 1;
    if (this.failures === 1) {
      this.logger.warn(
        `Outbox listener lost its PostgreSQL connection${error ? ` (${error.message})` : ''}; ` +
          'reconnecting. The periodic sweep keeps enqueueing stored events meanwhile.',
      );
    }
    const delay = Math.min(500 * 2 ** (this.failures - 1), MAX_RECONNECT_DELAY_MS);
    this.reconnectTimer = setTimeout(() => void this.connect(), delay);
    this.reconnectTimer.unref();
  }

  private receive(message: Notification): void {
    if (message.channel !== OUTBOX_CHANNEL) return;
    const payload = message.payload ?? '';
    // Anyone may NOTIFY this channel: only well-formed ids reach SQL.
    const ids = payload.split(',').filter(isUuid);
    this.onNotice(ids.length > 0 ? { ids } : { all: true });
  }
}
