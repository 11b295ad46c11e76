import { EventBusError } from '../../shared/errors.js';

/**
 * There is no database, so no transaction to join: silently writing outside it would hide a
 * rollback. The store refuses a `manager`, and so does the outbox it offers.
 */
export function noTransactionError(): EventBusError {
  return new EventBusError(
    "InMemoryEventStore has no database, so it cannot join the caller's transaction (the `manager` option). " +
      'Test code that publishes inside a TypeORM transaction against PostgreSQL (PersistentEventStore).',
  );
}
