/**
 * A user's unit test of the greeting handler with `nestjs-durable-events/testing`: no PostgreSQL,
 * no Redis. Written as a plain script (the consumer app installs no test runner); it exits non-zero
 * when an expectation fails.
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventBus } from 'nestjs-durable-events';
import { EventBusTestHarness, EventBusTestingModule } from 'nestjs-durable-events/testing';
import { GreetingHandlers, type Greeting } from './greeting.handlers.js';

@Module({ imports: [EventBusTestingModule.forRoot({ logger: false })], providers: [GreetingHandlers] })
class GreetingTestModule {}

async function main(): Promise<void> {
  const app = await NestFactory.createApplicationContext(GreetingTestModule, { logger: false });
  try {
    await app
      .get(EventBus)
      .publish<Greeting>({ type: 'greeting.sent', tenantId: randomUUID(), payload: { to: 'test' } });
    const harness = app.get(EventBusTestHarness);
    await harness.waitForIdle();
    const attempts = app.get(GreetingHandlers).attempts.join(',');
    const [greeting] = harness.published<Greeting>('greeting.*');
    if (attempts !== '1,2' || greeting?.status !== 'processed' || harness.failures().length > 0) {
      throw new Error(`expected processed after attempts 1,2; got ${greeting?.status} after [${attempts}]`);
    }
    console.log(`unit test ok: ${greeting.type} ${greeting.status} after attempts ${attempts}, in memory`);
  } finally {
    await app.close();
  }
}

main().catch((error: unknown) => {
  console.error('consumer unit test failed:', error);
  process.exitCode = 1;
});
