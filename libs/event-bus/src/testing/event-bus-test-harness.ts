import { Injectable } from '@nestjs/common';
import type { StoredEvent } from '../events/domain-event.js';
import { compileEventPattern } from '../subscriptions/event-pattern.js';
import type { RecordedFailure } from './recorded-failure.js';
import { InMemoryEventBus } from './in-memory-event-bus.js';
import { InMemoryEventStore } from '../store/in-memory/in-memory-event-store.js';

/** What `waitFor` waits for: an event type pattern (`'order.*'`) or a predicate on the stored event. */
export type EventMatcher = string | ((event: StoredEvent) => boolean);

export interface HarnessWaitOptions {
  /** @default 5000 */
  timeoutMs?: number;
}

/** How long the harness waits unless told otherwise. */
export const DEFAULT_HARNESS_TIMEOUT_MS = 5000;

/**
 * What a unit test needs around the in-memory bus of `EventBusTestingModule`: wait for an event or
 * for every delivery to settle, look at what was published and which deliveries failed, and start
 * the next test from an empty store. Inject it (`moduleRef.get(EventBusTestHarness)`).
 */
@Injectable()
export class EventBusTestHarness {
  constructor(
    private readonly bus: InMemoryEventBus,
    private readonly store: InMemoryEventStore,
  ) {}

  /**
   * Resolves to the first published event that matches, as stored now; also one published before
   * the call. A predicate is asked again whenever an event changes (published, or a new status), so
   * `waitFor((e) => e.type === 'order.placed' && e.status === 'processed')` waits for its delivery.
   * Rejects after `timeoutMs` with an error naming what it waited for and what was published.
   */
  waitFor<P = unknown>(matcher: EventMatcher, options: HarnessWaitOptions = {}): Promise<StoredEvent<P>> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_HARNESS_TIMEOUT_MS;
    let matches: (event: StoredEvent) => boolean;
    try {
      matches = toPredicate(matcher);
      const found = this.published().find(matches);
      if (found) return Promise.resolve(found as StoredEvent<P>);
    } catch (error) {
      return Promise.reject(asError(error));
    }
    return new Promise((resolve, reject) => {
      const finish = (settle: () => void): void => {
        clearTimeout(timer);
        stop();
        settle();
      };
      const timer = setTimeout(
        () => finish(() => reject(new Error(`${describeMatcher(matcher)} ${timeoutMs} ms: ${this.summary()}`))),
        timeoutMs,
      );
      const stop = this.bus.onChange((eventId) => {
        const event = this.store.peek(eventId);
        try {
          if (event && matches(event)) finish(() => resolve(event as StoredEvent<P>));
        } catch (error) {
          finish(() => reject(asError(error)));
        }
      });
    });
  }

  /**
   * Resolves once every delivery and retry has settled, including the deliveries of events that
   * handlers published meanwhile; rejects, naming what still runs, after `timeoutMs`.
   */
  async waitForIdle(options: HarnessWaitOptions = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_HARNESS_TIMEOUT_MS;
    if (await this.bus.idle(timeoutMs)) return;
    throw new Error(
      `waitForIdle: still delivering after ${timeoutMs} ms: ${this.bus.running().join(', ')}. A handler that ` +
        'never settles, or retries waiting for real (realDelays) longer than that?',
    );
  }

  /** The events published so far, as stored now (status included), in order; only those matching `pattern` if given. */
  published<P = unknown>(pattern?: string): StoredEvent<P>[] {
    const events = this.bus
      .published()
      .map((id) => this.store.peek<P>(id))
      .filter((event): event is StoredEvent<P> => event !== undefined);
    if (pattern === undefined) return events;
    const matcher = compileEventPattern(pattern);
    return events.filter((event) => matcher.matches(event.type));
  }

  /** The handler deliveries that failed for good (policy exhausted, or `NonRetryableEventError`), oldest first. */
  failures(): RecordedFailure[] {
    return this.bus.failures();
  }

  /**
   * Waits for every delivery to settle (as `waitForIdle`), then forgets every event, publication and
   * failure, so the next test starts empty. Handlers stay subscribed.
   */
  async reset(options: HarnessWaitOptions = {}): Promise<void> {
    await this.waitForIdle(options);
    this.store.clear();
    this.bus.reset();
  }

  private summary(): string {
    const events = this.published();
    if (events.length === 0) return 'nothing was published';
    const shown = events.slice(-10).map((event) => `${event.type} (${event.status})`);
    const more = events.length > shown.length ? `the last ${shown.length} of ` : '';
    return `published so far, ${more}${events.length}: ${shown.join(', ')}`;
  }
}

function toPredicate(matcher: EventMatcher): (event: StoredEvent) => boolean {
  if (typeof matcher === 'function') return matcher;
  const compiled = compileEventPattern(matcher);
  return (event) => compiled.matches(event.type);
}

function describeMatcher(matcher: EventMatcher): string {
  const what =
    typeof matcher === 'string'
      ? `matching "${matcher}"`
      : `satisfying ${matcher.name ? `${matcher.name}()` : 'the predicate'}`;
  return `waitFor: no event ${what} was published within`;
}

/** A predicate may throw anything; a rejection should be an `Error`. */
function asError(thrown: unknown): Error {
  return thrown instanceof Error ? thrown : new Error(`The predicate threw: ${String(thrown)}`, { cause: thrown });
}
