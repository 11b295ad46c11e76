import { Injectable } from '@nestjs/common';
import { OnEvent, type EventContext, type StoredEvent } from 'nestjs-durable-events';

export interface Greeting {
  to: string;
}

/** A handler that fails its first attempt, so the round trip also goes through a retry. */
@Injectable()
export class GreetingHandlers {
  readonly attempts: number[] = [];

  @OnEvent('greeting.sent', { retry: { maxAttempts: 3, backoff: { type: 'fixed', delay: 100 } } })
  async greet(event: StoredEvent<Greeting>, context: EventContext): Promise<void> {
    this.attempts.push(context.attempt);
    if (context.attempt === 1) throw new Error(`first attempt for ${event.payload.to} fails on purpose`);
  }
}
