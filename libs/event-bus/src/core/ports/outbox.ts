import type { LoggerService } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { StoredEvent } from '../../events/domain-event.js';

/** What a commit notification asks for: these event ids, or every event not dispatched yet. */
export type OutboxNotice = { ids: string[] } | { all: true };

/** Which stored-but-not-dispatched events a relay round claims. */
export interface OutboxClaim {
  batchSize: number;
  /** Only events stored longer ago than this, in ms (0: any). */
  olderThanMs: number;
  /** Only these events. */
  ids?: readonly string[];
}

/** Receives commit notifications over a connection of its own, reconnecting on its own. */
export interface OutboxListener {
  /** Resolves once listening, or after the first failure (it keeps retrying in the background). */
  start(): Promise<void>;
  /** Ends its connection within `timeoutMs`. */
  stop(timeoutMs: number): Promise<void>;
}

/**
 * The outbox: events stored but not dispatched yet. `publish` inside a caller's transaction notifies
 * it there (delivered on commit only); the relay claims what is pending, in every process at once
 * without two of them taking the same event.
 */
export interface Outbox {
  /**
   * In one transaction: claims up to `batchSize` pending events (those another relay holds are
   * skipped), hands them to `dispatch` and records the job ids it resolves to. Resolves to how many.
   */
  claimPending(claim: OutboxClaim, dispatch: (events: StoredEvent[]) => Promise<string[]>): Promise<number>;

  /**
   * How long the oldest event stored but not dispatched yet has waited, in ms; `null` when none
   * waits. Bounded by the store's deadline (`StoreUnavailableError` past it).
   */
  oldestPendingAgeMs(): Promise<number | null>;

  /** A listener for the notifications of committed transactional publishes. */
  listener(onNotice: (notice: OutboxNotice) => void, logger: LoggerService): OutboxListener;

  /** Inside the caller's transaction: tells the relays about these fresh events once it commits. Bounded. */
  notifyOnCommit(ids: readonly string[], manager: EntityManager): Promise<void>;
}
