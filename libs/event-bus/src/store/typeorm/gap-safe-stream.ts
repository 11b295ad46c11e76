import { setTimeout as sleep } from 'node:timers/promises';
import type { LoggerService } from '@nestjs/common';
import type { StoredEvent } from '../../events/domain-event.js';
import type { CheckedFilter } from '../event-filter.validation.js';
import type { EventStoreRepository, StreamPage } from './event-store.repository.js';

/** How long a stream waits, at one position, for committed events hidden behind an older transaction. */
export const DEFAULT_CATCH_UP_TIMEOUT_MS = 30_000;
const FIRST_POLL_MS = 20;
const MAX_POLL_MS = 250;

export interface GapSafeStreamOptions {
  batchSize: number;
  catchUpTimeoutMs: number;
  logger?: LoggerService;
}

/**
 * `stream()`: keyset pages in `(transaction_id, sequence_number)` order below the gap-safe horizon
 * (gap-safe-visibility.ts says why not sequence order), one page held at a time, and complete for
 * everything committed before the call. Gap-safe pages alone can come back short while committed
 * events are merely hidden behind an older transaction still running; ending there would hand a
 * caller who saved 10 events fewer than 10. So the stream notes the highest committed sequence
 * number first, and when a page comes back short, asks (a plain read) whether a matching committed
 * event at or below it is still unread: if none is, that is the end; if one is, it polls until the
 * horizon passes it. A short page also moves the position up to that page's horizon (everything
 * below it has been read), so these checks and the polls look only at the few newest rows.
 * PostgreSQL says nothing when a transaction ends (LISTEN/NOTIFY would need the writers'
 * cooperation), hence the poll, short at first and growing. Events committed after the call
 * started are not waited for: they come if already visible. The wait is bounded: past
 * `catchUpTimeoutMs` without progress the stream ends, with a warning naming a sequence number to
 * resume from; it never reads past the horizon, so nothing is skipped.
 */
export async function* readGapSafeStream(
  repository: EventStoreRepository,
  filter: CheckedFilter,
  { batchSize, catchUpTimeoutMs, logger }: GapSafeStreamOptions,
): AsyncGenerator<StoredEvent> {
  const target = await repository.maxSequenceNumber();
  // From a sequence number: skip the transactions that hold no row after it (the condition itself stays in the filter).
  let position = filter.afterSequence !== undefined ? await repository.streamStart(filter) : undefined;
  let lastYielded = filter.afterSequence ?? 0;
  let highestYielded = lastYielded;
  let remaining = filter.limit ?? Number.POSITIVE_INFINITY;
  let pollMs = FIRST_POLL_MS;
  let waitingSince: number | undefined;
  // One page of read-ahead: a full page means the next one starts right after it, so it is fetched
  // while this one is consumed (at most two pages in memory). A short page fetches nothing ahead:
  // the catch-up checks below decide what comes next.
  let ahead: Promise<StreamPage> | undefined;

  try {
    while (remaining > 0) {
      const limit = Math.min(batchSize, remaining);
      const page = await (ahead ?? repository.findStreamPage(filter, position, limit));
      ahead = undefined;
      if (page.events.length === limit && remaining > limit) {
        ahead = repository.findStreamPage(filter, page.last, Math.min(batchSize, remaining - limit));
        // Awaited (and so thrown) on the next turn; this only keeps a failure meanwhile from counting as unhandled.
        ahead.catch(() => undefined);
      }
      for (const event of page.events) {
        lastYielded = event.sequenceNumber;
        highestYielded = Math.max(highestYielded, lastYielded);
        yield event;
      }
      if (page.last) {
        position = page.last;
        remaining -= page.events.length;
        pollMs = FIRST_POLL_MS;
        waitingSince = undefined;
      }
      if (page.events.length === limit) continue;

      // Short: every matching row of a transaction below the horizon has been read.
      if (!position || page.horizon > position.transactionId) {
        position = { transactionId: page.horizon, sequenceNumber: 0 }; // Sequence numbers start at 1.
      }
      if (!(await repository.hasCommitted(filter, target, position))) return;
      waitingSince ??= Date.now();
      const left = waitingSince + catchUpTimeoutMs - Date.now();
      if (left <= 0) {
        // Every unread committed event lies after `resume`; with concurrent transactions some read ones may too.
        const firstUnread = await repository.firstUnreadSequence(filter, position);
        const resume = Math.min(firstUnread === undefined ? highestYielded : firstUnread - 1, highestYielded);
        logger?.warn(
          `Event stream stopped after #${lastYielded}: events committed up to #${target} match its filter but are ` +
            `hidden behind an older transaction that stayed open in this database for over ${catchUpTimeoutMs} ms. ` +
            `None was skipped: a stream from afterSequence ${resume} reads them once that transaction ends` +
            (resume < highestYielded ? ` (and again those this one yielded above #${resume})` : '') +
            `. Keep transactions short, or raise catchUpTimeoutMs.`,
        );
        return;
      }
      await sleep(Math.min(pollMs, left));
      pollMs = Math.min(pollMs * 2, MAX_POLL_MS);
    }
  } finally {
    // A consumer that stops early leaves no query running behind it (it may close the DataSource next).
    await ahead?.catch(() => undefined);
  }
}
