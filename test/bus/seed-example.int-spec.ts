import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { BullMQEventBus, EventStoreRepository, PersistentEventStore } from '@app/event-bus';
import type { EventBusOptions } from '@app/event-bus';
import {
  createTestDatabase,
  testRedisConnection,
  uniquePrefix,
  waitFor,
  type TestDatabase,
} from '../support/database.js';
import { purgeRedisQueue } from '../support/bus.js';
import { redisAvailable } from '../support/environment.js';
import { describeIfRunnable } from '../support/runnable.js';

/**
 * The usage example of the project's original notes, nearly verbatim, against the real services.
 * Differences, each forced by the contract: ids are UUIDs (`'event-id'` and `'tenant-id'` are not),
 * the repository is given the DataSource, the queue gets a prefix of its own (test isolation), and
 * `console.log` lines are collected instead of printed.
 */
describeIfRunnable(
  'seed example',
  redisAvailable() ? undefined : 'needs Redis (the example configures a Redis connection)',
)('the original usage example', () => {
  let db: TestDatabase;
  const printed: string[] = [];
  const console = { log: (line: string) => printed.push(line) };
  const prefix = uniquePrefix('seed-example');

  beforeAll(async () => {
    db = await createTestDatabase('bus-seed-example');
  });

  afterAll(async () => {
    await purgeRedisQueue(testRedisConnection(), prefix, 'workflow-events');
    await db?.drop();
  });

  it('runs as written', async () => {
    const dataSource = db.dataSource;
    const redis = testRedisConnection();
    process.env.REDIS_HOST ??= redis.host;
    const eventId = randomUUID();
    const tenantId = randomUUID();
    const workflowId = `workflow-${randomUUID()}`;

    // --- the example ---------------------------------------------------------------------------
    // Create event store
    const repository = new EventStoreRepository(dataSource);
    const eventStore = new PersistentEventStore(repository);

    // Configure event bus
    const options: EventBusOptions = {
      connection: {
        host: process.env.REDIS_HOST || 'localhost',
        port: parseInt(process.env.REDIS_PORT || String(redis.port)),
        password: process.env.REDIS_PASSWORD ?? redis.password,
      },
      queueName: 'workflow-events',
      prefix,
      eventStore,
    };

    // Create event bus
    const eventBus = new BullMQEventBus(options);

    // Initialize the event bus
    await eventBus.initialize();

    // Subscribe to events
    await eventBus.subscribe<{ workflowId: string; nodeId: string }>('workflow.node.triggered', async (event) => {
      console.log(`Node ${event.payload.nodeId} triggered in workflow ${event.payload.workflowId}`);
    });

    // Publish an event with workflow ID
    await eventBus.publish({
      id: eventId,
      type: 'workflow.node.triggered',
      timestamp: new Date().toISOString(),
      tenantId,
      payload: {
        workflowId,
        nodeId: 'node-id',
      },
      metadata: {
        workflowId,
      },
    });

    // Get events for a specific workflow
    const workflowEvents = await eventBus.getEventsByWorkflowId(workflowId);
    console.log(`Found ${workflowEvents.length} events for this workflow`);

    // (not in the example: let the worker deliver before replaying and closing)
    await waitFor(() => printed.some((line) => line.startsWith('Node node-id')), { message: 'the handler ran' });

    // Replay events from a specific time
    const oneHourAgo = new Date(Date.now() - 60 * 60 * 1000);
    const replayed = await eventBus.replayEvents(oneHourAgo);

    // Clean up
    await eventBus.close();
    // --- end of the example ----------------------------------------------------------------------

    // Delivered once by the worker, once more by the replay.
    expect([...printed].sort()).toEqual([
      'Found 1 events for this workflow',
      `Node node-id triggered in workflow ${workflowId}`,
      `Node node-id triggered in workflow ${workflowId}`,
    ]);
    expect(replayed).toEqual({ events: 1, handlerCalls: 1, failed: 0 });
    const [stored] = workflowEvents;
    // Read right after publish: the job id may not be recorded yet (it follows publish); the row
    // below, read after delivery, has it.
    expect(stored).toMatchObject({ id: eventId, tenantId, metadata: { workflowId } });
    const [row] = await dataSource.query<{ status: string; job_id: string }[]>(
      'SELECT status, job_id FROM event_store WHERE id = $1',
      [eventId],
    );
    expect(row).toEqual({ status: 'processed', job_id: eventId });
  });
});
