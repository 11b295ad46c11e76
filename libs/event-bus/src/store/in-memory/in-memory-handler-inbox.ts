import type { HandlerInbox, HandlerTransactions, TransactionalWork } from '../../core/ports/handler-inbox.js';
import { EventBusError } from '../../shared/errors.js';
import type { InMemoryTables } from './in-memory-tables.js';

/**
 * The inbox of `InMemoryEventStore`: there is no database, so no transaction and no manager (work
 * gets `undefined`), but the rule is the same: each (event, handler) runs once, a failed run leaves
 * no mark, and a duplicate that arrives while a run is under way waits for it (as PostgreSQL makes it
 * wait on the key) and then finds it done or runs itself.
 */
export class InMemoryHandlerInbox implements HandlerInbox, HandlerTransactions {
  readonly transactional = false;
  /** Runs under way, by `eventId handler`. */
  private readonly running = new Map<string, Promise<void>>();

  constructor(private readonly tables: InMemoryTables) {}

  async runOnce(
    eventId: string,
    handler: string,
    work: TransactionalWork,
    alsoInTransaction?: TransactionalWork,
  ): Promise<'ran' | 'skipped'> {
    if (!this.tables.event(eventId)) {
      // PostgreSQL refuses the inbox row of an unknown event (its foreign key); so does this table.
      throw new EventBusError(`Event ${eventId} is not in the event store: its inbox row cannot be written`);
    }
    const key = `${eventId} ${handler}`;
    for (let current = this.running.get(key); current; current = this.running.get(key)) {
      await current.catch(() => undefined);
    }
    if (this.tables.handled(eventId, handler)) return 'skipped';
    // Marked inside the run, so whoever waits on it finds the mark once it settles.
    const run = (async () => {
      await work(undefined);
      await alsoInTransaction?.(undefined);
      this.tables.markHandled(eventId, handler);
    })();
    this.running.set(key, run);
    try {
      await run;
    } finally {
      this.running.delete(key);
    }
    return 'ran';
  }

  /** No transaction to run in: the work runs as it is, with no manager. */
  run(work: TransactionalWork): Promise<void> {
    return work(undefined);
  }
}
