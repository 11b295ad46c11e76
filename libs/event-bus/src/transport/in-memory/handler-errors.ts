/**
 * The last error each handler threw on each event, kept by the in-memory transport beside the
 * ledger's records (which keep its text only), so a test sees the error itself in
 * `EventBusTestHarness.failures()`.
 */
export class HandlerErrors {
  private readonly errors = new Map<string, Error>();

  remember(eventId: string, handler: string, error: Error): void {
    this.errors.set(keyOf(eventId, handler), error);
  }

  forget(eventId: string, handler: string): void {
    this.errors.delete(keyOf(eventId, handler));
  }

  get(eventId: string, handler: string): Error | undefined {
    return this.errors.get(keyOf(eventId, handler));
  }

  clear(): void {
    this.errors.clear();
  }
}

function keyOf(eventId: string, handler: string): string {
  return `${eventId}\u0000${handler}`;
}
