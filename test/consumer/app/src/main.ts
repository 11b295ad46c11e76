/**
 * The round trip of the consumer test: publish one event, wait until the handler has seen it (on
 * its second attempt) and the store says `processed`, then close. Exits non-zero on any failure.
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { NestFactory } from '@nestjs/core';
import { EventBus, EventStore, type StoredEvent } from 'nestjs-durable-events';
import { AppModule } from './app.module.js';
import { GreetingHandlers, type Greeting } from './greeting.handlers.js';

const DEADLINE_MS = 30_000;

async function waitUntilSettled(store: EventStore, id: string): Promise<StoredEvent> {
  const deadline = Date.now() + DEADLINE_MS;
  for (;;) {
    const stored = await store.findById(id);
    if (stored && (stored.status === 'processed' || stored.status === 'failed')) return stored;
    if (Date.now() > deadline) {
      throw new Error(`event ${id} still ${stored?.status ?? 'missing'} after ${DEADLINE_MS} ms`);
    }
    await sleep(50);
  }
}

async function main(): Promise<void> {
  const app = await NestFactory.createApplicationContext(AppModule, { logger: ['error', 'warn'] });
  app.enableShutdownHooks();
  try {
    const published = await app.get(EventBus).publish<Greeting>({
      type: 'greeting.sent',
      tenantId: randomUUID(),
      payload: { to: 'world' },
    });
    const stored = await waitUntilSettled(app.get(EventStore), published.id);
    const attempts = app.get(GreetingHandlers).attempts;
    if (stored.status !== 'processed' || attempts.join(',') !== '1,2') {
      throw new Error(`expected processed after attempts 1,2; got ${stored.status} after [${attempts.join(',')}]`);
    }
    console.log(`round trip ok: ${stored.type} ${stored.id} ${stored.status} after attempts ${attempts.join(', ')}`);
  } finally {
    await app.close();
  }
}

main().catch((error: unknown) => {
  console.error('consumer round trip failed:', error);
  process.exitCode = 1;
});
