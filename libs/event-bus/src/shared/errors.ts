/**
 * Every error the library throws on purpose. Each one sets `name`, keeps the `cause`,
 * carries structured read-only fields and a message that says what to do.
 */
export class EventBusError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** One problem found while validating an event: which field, and what is wrong with it. */
export interface EventValidationIssue {
  /** Dotted path of the field, e.g. `payload.items[2].price` or `tenantId`. */
  readonly field: string;
  readonly message: string;
}

/** An event (or a query filter) was rejected before anything was stored or enqueued. */
export class EventValidationError extends EventBusError {
  /** The first offending field; `issues` lists all of them. */
  readonly field: string;
  readonly issues: readonly EventValidationIssue[];
  /** Position of the offending event inside a `publishAll` / `saveAll` batch. */
  readonly index?: number;

  constructor(issues: readonly EventValidationIssue[], options?: { index?: number; cause?: unknown }) {
    const where = options?.index === undefined ? '' : ` (event #${options.index} of the batch)`;
    const list = issues.map((issue) => `${issue.field}: ${issue.message}`).join('; ');
    super(`Invalid event${where}: ${list}`, options);
    this.issues = issues;
    this.field = issues[0]?.field ?? '';
    this.index = options?.index;
  }
}

/** The same event id was published again with different content. Nothing was changed. */
export class EventConflictError extends EventBusError {
  constructor(
    readonly eventId: string,
    /** The fields whose values differ from the stored event. */
    readonly fields: readonly string[],
  ) {
    super(
      `Event ${eventId} is already stored with different ${fields.join(', ')}. ` +
        'Event ids are idempotency keys: publish a changed event under a new id.',
    );
  }
}

/**
 * Thrown by a handler to fail its delivery at once, without the remaining attempts of its
 * retry policy (e.g. the payload can never be processed). The failure is recorded and can
 * still be re-driven with `retryFailed()`.
 */
export class NonRetryableEventError extends EventBusError {}

/**
 * A handler attempt ran longer than its `timeoutMs` (or the bus's `handlerTimeoutMs`). It fails that
 * attempt like any error, so the handler's retry policy applies; `context.signal` was aborted with it.
 */
export class HandlerTimeoutError extends EventBusError {
  constructor(
    readonly handler: string,
    readonly timeoutMs: number,
  ) {
    super(`Handler "${handler}" did not finish within ${timeoutMs} ms`);
  }
}

/** The module or bus was configured wrongly; `option` names the offending option. */
export class EventBusConfigurationError extends EventBusError {
  constructor(
    readonly option: string,
    message: string,
  ) {
    super(`Invalid event bus option "${option}": ${message}`);
  }
}

/** A subscription pattern is not valid (see the pattern rules in the README). */
export class InvalidEventPatternError extends EventBusError {
  constructor(
    readonly pattern: string,
    reason: string,
  ) {
    super(`Invalid event pattern "${pattern}": ${reason}`);
  }
}

/** The bus was used before `initialize()` or after `close()`. */
export class EventBusNotReadyError extends EventBusError {}

/**
 * PostgreSQL refused the connection, dropped it, or did not answer within `storeTimeoutMs`. The
 * operation did not complete: a `publish` that rejects with it stored and enqueued nothing, unless
 * the store answered after the deadline, in which case the event is stored and the relay enqueues it
 * (publish it again: ids are idempotency keys). `cause` is the driver's error or the deadline.
 */
export class StoreUnavailableError extends EventBusError {
  constructor(message: string, options: { cause: unknown }) {
    super(message, options);
  }
}

/**
 * `publish(…, { expectedVersion })` found the workflow's stream at another version than the caller
 * expected: another writer appended first (or the stream is not there yet). Nothing was stored or
 * enqueued. Re-read the workflow, decide again, and publish with `actualVersion` as the expected one.
 */
export class EventConcurrencyError extends EventBusError {
  constructor(
    readonly workflowId: string,
    readonly tenantId: string,
    readonly expectedVersion: number,
    readonly actualVersion: number,
  ) {
    super(
      `Workflow "${workflowId}" of tenant ${tenantId} is at version ${actualVersion}, not at the expected ` +
        `version ${expectedVersion}: another writer appended first. Nothing was stored. Re-read the workflow ` +
        '(getWorkflowVersion, getEventsByWorkflowId), decide again, and publish with the new expected version.',
    );
  }
}

/**
 * An append without `expectedVersion` lost the race for a workflow's next version to a concurrent
 * append and could not simply take the one after: inside a caller's transaction at REPEATABLE READ
 * or SERIALIZABLE (its snapshot cannot see the winner), or after too many lost races in a row.
 * Nothing of the append was stored; roll the transaction back and run it again.
 */
export class ConcurrentAppendError extends EventBusError {
  constructor(
    message: string,
    /** The stream that was raced for, when PostgreSQL named it. */
    readonly workflowId: string | undefined,
    readonly tenantId: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
