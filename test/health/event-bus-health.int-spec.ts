/**
 * `EventBus.checkHealth()` (and so `EventBusHealthIndicator`) failing for each cause, naming it, and
 * passing again once the cause is gone: Redis refusing or hung (a TCP proxy in front of a Redis of
 * this suite's own), Redis allowed to evict, a worker stuck on handlers that never return while
 * jobs wait, the outbox's oldest event over its threshold, an ordered handler lagging (blocked on a
 * gate while events pile up behind it).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { BullMQEventBus, EventBusHealthIndicator, type EventBusHealth, type StoredEvent } from '@app/event-bus';
import { createTestBus, transportBackends, type TestBus, type TestBusOptions } from '../support/bus.js';
import { createTestDatabase, waitFor, type TestDatabase } from '../support/database.js';
import { servicesRequired } from '../support/environment.js';
import { redisServerUnavailable, startOwnRedisServer, type OwnRedisServer } from '../support/redis-server.js';
import { describeIfRunnable } from '../support/runnable.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { allProcessed, newEvent } from '../bus/bus-fixtures.js';

const unavailable = redisServerUnavailable();
if (unavailable && servicesRequired()) throw new Error(`EVENT_BUS_REQUIRE_SERVICES=1 but ${unavailable}`);

/** Short thresholds, so each cause shows within a test's time; a probe's deadline well under waitFor's. */
const FAST = { timeoutMs: 500, workerStuckMs: 300, outboxOldestMs: 300, orderedLagEvents: 10 };

async function healthOf(bus: BullMQEventBus): Promise<EventBusHealth> {
  return bus.checkHealth(FAST);
}

/** Waits until `predicate` holds of the bus's health; every call must settle (a hung probe fails the test). */
function waitForHealth(
  bus: BullMQEventBus,
  predicate: (health: EventBusHealth) => boolean,
  message: string,
): Promise<EventBusHealth> {
  return waitFor<EventBusHealth | undefined>(
    async () => {
      const health = await healthOf(bus);
      return predicate(health) ? health : undefined;
    },
    { timeoutMs: 20_000, intervalMs: 100, message },
  ) as Promise<EventBusHealth>;
}

const healthy = (health: EventBusHealth): boolean => health.healthy;

/** A promise a blocked handler awaits, and what resolves it. */
interface Gate {
  open: () => void;
  opened: Promise<void>;
}
function newGate(): Gate {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

describe('event bus health', () => {
  let db: TestDatabase;
  const opened: TestBus[] = [];
  const open = async (options: Omit<TestBusOptions, 'db' | 'suite'>): Promise<TestBus> => {
    const t = await createTestBus({ db, suite: 'health', ...options });
    opened.push(t);
    return t;
  };

  beforeAll(async () => {
    db = await createTestDatabase('health');
  });
  afterEach(async () => {
    // Newest first: a bus sharing another's queue closes before the one that purges it.
    for (const t of opened.splice(0).reverse()) await t.close();
  });
  afterAll(async () => {
    await db?.drop();
  });

  describe.each(transportBackends())('on the %s backend', (backend) => {
    let gate: Gate;
    afterEach(() => gate?.open()); // never leave a handler blocked, even when the test failed

    it.each([
      ['handler slots hold jobs it took (prefetch)', 2],
      ['jobs wait in the queue (no prefetch)', 0],
    ])('fails while the worker is stuck: %s; passes once the handlers return', async (_case, prefetch) => {
      gate = newGate();
      const t = await open({ backend, concurrency: 1, prefetch });
      await t.bus.subscribe('health.stuck', () => gate.opened, { name: 'blocked' });
      await waitForHealth(t.bus, healthy, 'a healthy bus before the handler blocks');

      // One job each (a publishAll, or concurrent publishes, would share one batch job).
      const events: StoredEvent[] = [];
      for (let i = 0; i < 5; i++) events.push(await t.bus.publish(newEvent({ type: 'health.stuck' })));
      const stuck = await waitForHealth(t.bus, (h) => !h.checks.worker.healthy, 'the worker reported stuck');
      expect(stuck.healthy).toBe(false);
      expect(stuck.checks.worker.reason).toMatch(/^the event worker is stuck: all 1 handler slots are held/);
      expect(stuck.problems).toEqual([`worker: ${stuck.checks.worker.reason}`]);
      if (prefetch === 0) expect(stuck.checks.worker.details?.oldestWaitingMs).toEqual(expect.any(Number));

      gate.open();
      await waitFor(
        () =>
          allProcessed(
            db,
            events.map((event) => event.id),
          ),
        { message: 'the events processed' },
      );
      await waitForHealth(t.bus, healthy, 'a healthy bus after the handlers returned');
    });

    it('passes in a publish-only process (no worker to judge) and fails while the outbox is over its threshold', async () => {
      const publisher = await open({ backend, worker: false, relay: false });
      const before = await waitForHealth(publisher.bus, healthy, 'a healthy publish-only bus');
      expect(before.checks.worker.details).toEqual({ consuming: false });

      // Stored and never enqueued (its bus has no relay): what the outbox holds while the queue is away.
      const waiting = await publisher.eventStore.save(newEvent({ type: 'health.outbox' }));
      const late = await waitForHealth(publisher.bus, (h) => !h.checks.outbox.healthy, 'the outbox reported late');
      expect(late.checks.outbox.reason).toMatch(
        /^the oldest event not yet enqueued was stored \d+ ms ago \(outboxOldestMs 300\)/,
      );
      expect(late.problems).toEqual([`outbox: ${late.checks.outbox.reason}`]);

      // A bus with a relay enqueues it: the outbox is empty again.
      await open({
        backend,
        sameQueueAs: publisher,
        relay: { intervalMs: 100, graceMs: 0, lostJobCheckIntervalMs: 1000 },
      });
      await waitFor(() => allProcessed(db, [waiting.id]), { message: 'the outbox event relayed and processed' });
      await waitForHealth(publisher.bus, healthy, 'a healthy bus after the relay emptied the outbox');
    });
  });

  describe('ordered handlers', () => {
    let gate: Gate | undefined;
    // Never leave a handler blocked, even when the test failed; runs before the outer afterEach closes the buses.
    afterEach(() => gate?.open());

    it("fails while an ordered handler's lag is over its threshold, naming it; passes once it caught up", async () => {
      gate = newGate();
      const blocked = gate;
      const called: string[] = [];
      const t = await open({ backend: transportBackends()[0], initialize: false });
      const subscribe = (name: string, handler: (event: StoredEvent) => Promise<void>) =>
        t.bus.subscribe('health.ordered', handler, { name, ordered: true, startFrom: 'beginning' });
      await subscribe('Projection.blocked', async (event) => {
        called.push(event.id);
        await blocked.opened;
      });
      await subscribe('Projection.fast', async () => undefined);
      await t.bus.initialize();
      await waitForHealth(t.bus, healthy, 'a healthy bus before any event');

      // One workflow, so the key runs one event at a time: the first blocks, the others wait behind it.
      const publish = (count: number) =>
        t.bus.publishAll(
          Array.from({ length: count }, () => newEvent({ type: 'health.ordered', metadata: { workflowId: 'wf-1' } })),
        );
      const lagIs = (blockedLag: number) => (health: EventBusHealth) => {
        const lag = health.checks.orderedHandlers.details?.lag as Record<string, number> | undefined;
        return lag?.['Projection.blocked'] === blockedLag && lag['Projection.fast'] === 0;
      };

      await publish(5);
      await waitFor(() => called.length === 1, { message: "the first event's call started (and blocked)" });
      const under = await waitForHealth(t.bus, lagIs(5), 'the blocked handler 5 events behind, the other caught up');
      expect(called).toHaveLength(1);
      expect(under.checks.orderedHandlers).toEqual({
        healthy: true,
        details: { lag: { 'Projection.blocked': 5, 'Projection.fast': 0 }, thresholdEvents: 10 },
      });

      await publish(7);
      const over = await waitForHealth(t.bus, lagIs(12), 'the blocked handler 12 events behind');
      const reason = '"Projection.blocked" is 12 events behind (orderedLagEvents 10)';
      expect(over.checks.orderedHandlers).toEqual({
        healthy: false,
        reason,
        details: { lag: { 'Projection.blocked': 12, 'Projection.fast': 0 }, thresholdEvents: 10 },
      });
      expect(over.problems).toEqual([`orderedHandlers: ${reason}`]);
      const indicated = await new EventBusHealthIndicator(t.bus).isHealthy('eventBus', FAST);
      expect(indicated.eventBus).toMatchObject({
        status: 'down',
        problems: [`orderedHandlers: ${reason}`],
        orderedHandlers: { status: 'down', reason, lag: { 'Projection.blocked': 12, 'Projection.fast': 0 } },
      });

      blocked.open();
      await waitForHealth(t.bus, lagIs(0), 'both ordered handlers caught up');
      expect(called).toHaveLength(12);
      expect((await new EventBusHealthIndicator(t.bus).isHealthy('eventBus', FAST)).eventBus.status).toBe('up');
    });
  });

  describeIfRunnable('event bus health on a Redis of its own', unavailable)('on a Redis of its own', () => {
    let redis: OwnRedisServer;
    let proxy: TcpProxy;
    let admin: Redis;

    beforeAll(async () => {
      redis = await startOwnRedisServer();
      proxy = await startTcpProxy({ host: '127.0.0.1', port: redis.port });
      admin = new Redis({ host: '127.0.0.1', port: redis.port, lazyConnect: true });
      await admin.connect();
    });
    afterAll(async () => {
      admin?.disconnect();
      await proxy?.close();
      await redis?.stop();
    });

    const busBehindProxy = () =>
      open({
        backend: 'redis',
        connection: { host: '127.0.0.1', port: proxy.port },
        enqueueTimeoutMs: 1000,
        relay: { intervalMs: 200, graceMs: 300, lostJobCheckIntervalMs: 500 },
      });

    it('fails while Redis refuses connections (passing once it accepts them again) or hangs (settling by its deadline)', async () => {
      const t = await busBehindProxy();
      await waitForHealth(t.bus, healthy, 'a healthy bus before the outage');

      await proxy.refuse();
      const refused = await waitForHealth(t.bus, (h) => !h.checks.queue.healthy, 'Redis reported unreachable');
      expect(refused.checks.queue.reason).toMatch(/^Redis is unreachable: /);
      await proxy.restore();
      await waitForHealth(t.bus, healthy, 'a healthy bus once Redis accepts connections again');

      // Hung: connections stay open and nothing answers. Each check still settles, by its deadline.
      proxy.freeze();
      try {
        const hung = await waitForHealth(t.bus, (h) => !h.checks.queue.healthy, 'Redis reported hung');
        expect(hung.checks.queue.reason).toMatch(/^Redis is unreachable: .*did not answer within 500 ms/);
        // Not "passing again" here: the bytes the freeze swallowed are lost, so the producer connection
        // keeps waiting for replies that never come, and the check rightly keeps failing.
        expect(hung.checks.worker).toMatchObject({ healthy: false });
      } finally {
        await proxy.restore();
      }
    });

    it('fails while Redis may evict keys (maxmemory-policy not noeviction), naming the policy', async () => {
      const t = await busBehindProxy();
      try {
        await waitForHealth(t.bus, healthy, 'a healthy bus under noeviction');
        await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
        const health = await healthOf(t.bus);
        expect(health.healthy).toBe(false);
        expect(health.checks.queue.reason).toBe(
          'Redis maxmemory-policy is "allkeys-lru", not "noeviction": under memory pressure Redis may delete queued event jobs',
        );
        expect(health.checks.queue.details).toMatchObject({ backend: 'redis', maxmemoryPolicy: 'allkeys-lru' });
        expect(health.problems).toEqual([`queue: ${health.checks.queue.reason}`]);
      } finally {
        await admin.config('SET', 'maxmemory-policy', 'noeviction');
      }
      await waitForHealth(t.bus, healthy, 'a healthy bus once the policy is noeviction again');
    });
  });
});
