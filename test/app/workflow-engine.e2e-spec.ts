/**
 * The sample app end to end, through its HTTP API only: the demo workflow runs into its flaky node,
 * which fails every try its retry policy allows, so the run ends `failed` with a failure record;
 * a re-drive lets the node succeed and the run complete; a replay rebuilds the read model and
 * changes no status.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import type { App } from 'supertest/types.js';
import { transportBackends } from '../support/bus.js';
import { waitFor } from '../support/database.js';
import { bootTestApp, type TestApp } from './app-harness.js';

interface EventView {
  sequenceNumber: number;
  version: number;
  id: string;
  type: string;
  status: string;
  attempts?: number;
  causationId?: string;
  payload: { node?: { id: string }; attempt?: number; final?: boolean; error?: string };
  failures: { handler: string; attempts: number; lastError: string; failedAt: string }[];
}
interface EventsView {
  workflowId: string;
  run: { status: string; completedNodes: number; nodeCount: number; currentNode: string | null } | null;
  events: EventView[];
}

const SETTLED = ['processed', 'failed'];

describe.each(transportBackends())('workflow engine app (%s queue backend)', (backend) => {
  let t: TestApp;
  let http: App;

  beforeAll(async () => {
    t = await bootTestApp(`app-e2e-${backend}`, backend);
    http = t.app.getHttpServer() as App;
  });
  afterAll(async () => {
    await t?.close();
  });

  const eventsOf = async (workflowId: string): Promise<EventsView> =>
    (await request(http).get(`/workflows/${workflowId}/events`).expect(200)).body as EventsView;

  /** Polls the history until `done` holds and no event is still pending or processing. */
  const settledHistory = async (
    workflowId: string,
    done: (view: EventsView) => boolean,
    message: string,
  ): Promise<EventsView> =>
    (await waitFor(
      async () => {
        const view = await eventsOf(workflowId);
        return done(view) && view.events.every((event) => SETTLED.includes(event.status)) ? view : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 100, message },
    ))!;

  const types = (view: EventsView) => view.events.map((event) => `${event.type}${nodeOf(event)}`);
  const nodeOf = (event: EventView) => (event.payload.node ? `:${event.payload.node.id}` : '');

  it('rejects a bad workflow description with 400 and says what is wrong', async () => {
    const response = await request(http)
      .post('/workflows')
      .send({ nodes: [{ type: 'teleport' }, { type: 'slow', durationMs: -5 }], colour: 'red' })
      .expect(400);
    const messages = (response.body as { message: string[] }).message.join('\n');
    expect(messages).toContain('nodes.0.type must be one of the following values: task, slow, flaky');
    expect(messages).toContain('nodes.1.durationMs must not be less than 0');
    expect(messages).toContain('property colour should not exist');

    const duplicate = await request(http)
      .post('/workflows')
      .send({
        nodes: [
          { id: 'a', type: 'task' },
          { id: 'a', type: 'task' },
        ],
      })
      .expect(400);
    expect((duplicate.body as { message: string[] }).message).toEqual(["nodes: the id 'a' is used more than once"]);
    await request(http).get('/workflows/not-a-uuid/events').expect(400);
    await request(http).get('/workflows/5b0c9a4e-7f2d-4c1b-9e3a-6d8f1c2b4a70/events').expect(404);
  });

  it('runs the demo workflow into a failure, re-drives it to completion and replays it', async () => {
    // An empty body starts the demo workflow.
    const started = await request(http).post('/workflows').expect(201);
    const { workflowId } = started.body as { workflowId: string };
    expect(workflowId).toMatch(/^[0-9a-f-]{36}$/);

    // The flaky node fails 3 tries, as many as the node runner's policy allows: the run fails.
    const failed = await settledHistory(
      workflowId,
      // The read model is an ordered projection of the log: it follows the events, a moment later.
      (view) => view.events.some((event) => event.type === 'workflow.failed') && view.run?.status === 'failed',
      'the demo workflow to end failed',
    );
    expect(types(failed)).toEqual([
      'workflow.started',
      'workflow.node.triggered:validate-order',
      'workflow.node.completed:validate-order',
      'workflow.node.triggered:charge-payment',
      'workflow.node.completed:charge-payment',
      'workflow.node.triggered:reserve-stock',
      'workflow.node.failed:reserve-stock',
      'workflow.node.failed:reserve-stock',
      'workflow.node.failed:reserve-stock',
      'workflow.failed',
    ]);
    const sequence = failed.events.map((event) => event.sequenceNumber);
    expect(sequence).toEqual([...sequence].sort((a, b) => a - b));
    // The run's stream, numbered 1, 2, 3 … in order.
    expect(failed.events.map((event) => event.version)).toEqual(failed.events.map((_, index) => index + 1));
    const tries = failed.events.filter((event) => event.type === 'workflow.node.failed');
    expect(tries.map((event) => [event.payload.attempt, event.payload.final])).toEqual([
      [1, false],
      [2, false],
      [3, true],
    ]);

    const stuck = failed.events[5];
    expect(stuck.status).toBe('failed');
    expect(stuck.attempts).toBe(3);
    expect(stuck.failures).toEqual([
      {
        handler: 'NodeRunner.run',
        attempts: 3,
        lastError: expect.stringContaining('Node reserve-stock failed on purpose') as unknown as string,
        failedAt: expect.any(String) as unknown as string,
      },
    ]);
    // Every other event was handled by all its handlers.
    expect(failed.events.filter((event) => event !== stuck).map((event) => event.status)).toEqual(
      Array(9).fill('processed'),
    );
    expect(failed.run).toMatchObject({
      status: 'failed',
      completedNodes: 2,
      nodeCount: 4,
      currentNode: 'reserve-stock',
    });

    const deadLetters = await request(http).get('/events/failed').query({ eventId: stuck.id }).expect(200);
    expect(deadLetters.body).toEqual([
      expect.objectContaining({ eventId: stuck.id, handler: 'NodeRunner.run', attempts: 3 }),
    ]);

    // Re-drive: the node's fourth try succeeds, and the run goes on to the end.
    const retried = await request(http).post('/events/retry-failed').send({ eventId: stuck.id }).expect(200);
    expect(retried.body).toEqual({ retried: 1 });
    const completed = await settledHistory(
      workflowId,
      (view) => view.events.some((event) => event.type === 'workflow.completed') && view.run?.status === 'completed',
      'the re-driven workflow to complete',
    );
    expect(completed.events.map((event) => event.version)).toEqual(completed.events.map((_, index) => index + 1));
    expect(types(completed).slice(10)).toEqual([
      'workflow.node.completed:reserve-stock',
      'workflow.node.triggered:send-confirmation',
      'workflow.node.completed:send-confirmation',
      'workflow.completed',
    ]);
    const redriven = completed.events.find((event) => event.id === stuck.id)!;
    expect(redriven).toMatchObject({ status: 'processed', attempts: 4, failures: [] });
    expect(completed.events.every((event) => event.status === 'processed')).toBe(true);
    expect(completed.run).toMatchObject({ status: 'completed', completedNodes: 4, nodeCount: 4, currentNode: null });
    const remaining = await request(http).get('/events/failed').query({ eventId: stuck.id }).expect(200);
    expect(remaining.body).toEqual([]);

    // The run's row is rebuilt from its events, and no event's status changes.
    const replay = await request(http).post(`/workflows/${workflowId}/replay`).expect(200);
    expect(replay.body).toMatchObject({
      workflowId,
      events: completed.events.length,
      run: { status: 'completed', completedNodes: 4, nodeCount: 4 },
    });
    const after = await eventsOf(workflowId);
    expect(after.events.map((event) => [event.id, event.status])).toEqual(
      completed.events.map((event) => [event.id, event.status]),
    );

    // The whole read model, rebuilt by the ordered projection from the log: the same row comes back.
    const { run: before } = after;
    await request(http).post('/workflows/projection/rebuild').expect(202, {
      handler: 'WorkflowRunProjection.apply',
      reset: true,
    });
    await waitFor(
      async () => {
        const { body } = await request(http).get(`/workflows/${workflowId}`);
        return (body as { status?: string }).status === 'completed';
      },
      { timeoutMs: 30_000, message: 'the read model rebuilt' },
    );
    const rebuilt = (await eventsOf(workflowId)).run;
    expect(rebuilt).toMatchObject({
      status: before?.status,
      completedNodes: before?.completedNodes,
      nodeCount: before?.nodeCount,
    });
    const { body: ordered } = await request(http).get('/events/ordered-handlers').expect(200);
    expect(ordered).toEqual([expect.objectContaining({ handler: 'WorkflowRunProjection.apply', parked: 0 })]);
  });

  it('runs a described workflow and lists it among the runs', async () => {
    const { body } = await request(http)
      .post('/workflows')
      .send({ name: 'two steps', nodes: [{ type: 'task' }, { id: 'wait', type: 'slow', durationMs: 10 }] })
      .expect(201);
    const { workflowId } = body as { workflowId: string };
    const view = await settledHistory(
      workflowId,
      (v) => v.run?.status === 'completed',
      'the described workflow to complete',
    );
    expect(types(view)).toEqual([
      'workflow.started',
      'workflow.node.triggered:task-1',
      'workflow.node.completed:task-1',
      'workflow.node.triggered:wait',
      'workflow.node.completed:wait',
      'workflow.completed',
    ]);
    const runs = await request(http).get('/workflows').expect(200);
    expect(runs.body).toEqual(expect.arrayContaining([expect.objectContaining({ workflowId, name: 'two steps' })]));
    await request(http).get(`/workflows/${workflowId}`).expect(200);
  });

  it('serves the event bus metrics at /metrics, in Prometheus text format', async () => {
    await request(http).post('/workflows').send({}).expect(201);
    const scrape = await request(http)
      .get('/metrics')
      .expect(200)
      .expect('content-type', /text\/plain/);
    for (const name of [
      'event_bus_published_total',
      'event_bus_handled_total',
      'event_bus_handler_duration_seconds',
      'event_bus_failed_deliveries',
      'event_bus_queue_jobs',
      'event_bus_outbox_pending',
      'event_bus_outbox_oldest_seconds',
      'event_bus_ordered_lag_events',
    ]) {
      expect(scrape.text).toContain(`# TYPE ${name} `);
    }
    expect(scrape.text).toMatch(/^event_bus_published_total\{type="workflow\.started"\} [1-9]\d*$/m);
    expect(scrape.text).toMatch(/^event_bus_queue_jobs\{state="waiting"\} \d+$/m);
    expect(scrape.text).toMatch(/^event_bus_failed_deliveries \d+$/m);
  });

  it('reports readiness of PostgreSQL and the event bus, serves the page and the queue dashboard', async () => {
    const health = await request(http).get('/health').expect(200);
    expect(health.body).toMatchObject({
      status: 'ok',
      info: {
        database: { status: 'up' },
        eventBus: { status: 'up', problems: [], queue: { status: 'up', backend }, worker: { status: 'up' } },
      },
    });
    await request(http).get('/health/live').expect(200);
    const page = await request(http)
      .get('/')
      .expect(200)
      .expect('content-type', /text\/html/);
    expect(page.text).toContain('<script src="/app.js"></script>');
    await request(http)
      .get('/app.js')
      .expect(200)
      .expect('content-type', /javascript/);
    const dashboard = await request(http).get('/queues').expect(200);
    expect(dashboard.text).toContain('<base href="/queues/" />');
    expect(dashboard.text).toContain('<title>Workflow events</title>');
    const queues = await request(http).get('/queues/api/queues').expect(200);
    expect(JSON.stringify(queues.body)).toContain(t.config.queueName);
  });
});
