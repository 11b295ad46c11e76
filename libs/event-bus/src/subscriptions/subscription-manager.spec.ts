import { describe, expect, it } from '@jest/globals';
import type { LoggerService } from '@nestjs/common';
import { EventBusConfigurationError, InvalidEventPatternError } from '../shared/errors.js';
import type { StoredEvent } from '../events/domain-event.js';
import type { EventContext } from './subscription.js';
import { SubscriptionManager } from './subscription-manager.js';

const silent: LoggerService = { log: () => undefined, error: () => undefined, warn: () => undefined };
const manager = () => new SubscriptionManager({ logger: silent });
const noop = () => undefined;

const event: StoredEvent = {
  id: '8b0d6f9e-4f7e-4a55-9d59-3f0d1b0f2a11',
  type: 'workflow.node.failed',
  timestamp: '2026-01-01T00:00:00.000Z',
  tenantId: '1d7a4c55-2c4b-4a6e-8f0e-6a8f3f7c0b22',
  payload: { node: 'a' },
  sequenceNumber: 1,
  version: null,
  status: 'processing',
  createdAt: '2026-01-01T00:00:00.000Z',
};
const context: EventContext = { attempt: 1, replay: false, handler: 'h', signal: new AbortController().signal };

describe('SubscriptionManager', () => {
  it('routes an event type to the handlers whose patterns match, in registration order', () => {
    const subs = manager();
    subs.add('workflow.**', noop, { name: 'audit' });
    subs.add('workflow.*', noop, { name: 'shallow' });
    subs.add(['**.failed', 'billing.*'], noop, { name: 'alerts' });
    subs.add('workflow.node.failed', noop, { name: 'exact' });

    expect(subs.handlersFor('workflow.node.failed').map((h) => h.name)).toEqual(['audit', 'alerts', 'exact']);
    expect(subs.handlersFor('workflow.started').map((h) => h.name)).toEqual(['audit', 'shallow']);
    expect(subs.handlersFor('billing.charged').map((h) => h.name)).toEqual(['alerts']);
    expect(subs.handlersFor('other.thing')).toEqual([]);
  });

  it('delivers once to a handler whose several patterns all match', () => {
    const subs = manager();
    subs.add(['workflow.**', '**.failed', 'workflow.node.failed'], noop, { name: 'multi' });
    expect(subs.handlersFor('workflow.node.failed')).toHaveLength(1);
  });

  it('returns a subscription and a registered handler describing the registration', () => {
    const subs = manager();
    const retry = { maxAttempts: 5, backoff: { type: 'fixed' as const, delay: 10 } };
    const subscription = subs.add(['a.*', 'a.*', 'b'], noop, { name: 'h', retry, replay: false, source: 'decorator' });
    expect(subscription).toEqual({ id: expect.any(String), patterns: ['a.*', 'b'], handler: 'h' });
    const handler = subs.get('h')!;
    expect(handler).toMatchObject({
      id: subscription.id,
      name: 'h',
      patterns: ['a.*', 'b'],
      retry,
      replay: false,
      source: 'decorator',
    });
    expect(Object.isFrozen(handler)).toBe(true);
    expect(Object.isFrozen(handler.patterns)).toBe(true);
  });

  it('defaults to runtime source, replay on and no retry policy (the bus default applies)', () => {
    const subs = manager();
    subs.add('a', noop, { name: 'h' });
    expect(subs.get('h')).toMatchObject({ source: 'runtime', replay: true, retry: undefined, transactional: false });
  });

  it('keeps transactional: true, and refuses a value that is not a boolean, naming the handler', () => {
    const subs = manager();
    subs.add('a', noop, { name: 'tx', transactional: true });
    expect(subs.get('tx')?.transactional).toBe(true);
    expect(subs.describeRoutes()).toContain('transactional');
    expect(() => subs.add('a', noop, { name: 'bad', transactional: 'yes' as never })).toThrow(
      'Invalid event bus option "transactional[bad]": must be true or false',
    );
    expect(subs.get('bad')).toBeUndefined();
  });

  it('gives every subscription its own id', () => {
    const subs = manager();
    const ids = new Set([subs.add('a', noop).id, subs.add('a', noop).id, subs.add('b', noop).id]);
    expect(ids.size).toBe(3);
  });

  describe('invoke', () => {
    it('passes the event and the context and resolves to the return value', async () => {
      const subs = manager();
      const calls: Array<[StoredEvent, EventContext]> = [];
      subs.add('workflow.**', (e, c) => {
        calls.push([e, c]);
        return 42;
      });
      await expect(subs.handlersFor(event.type)[0].invoke(event, context)).resolves.toBe(42);
      expect(calls).toEqual([[event, context]]);
    });

    it('turns a synchronous throw into a rejection', async () => {
      const subs = manager();
      const failure = new Error('sync failure');
      subs.add('**', () => {
        throw failure;
      });
      const result = subs.handlersFor('x')[0].invoke(event, context);
      expect(result).toBeInstanceOf(Promise);
      await expect(result).rejects.toBe(failure);
    });

    it('passes a rejection through', async () => {
      const subs = manager();
      subs.add('**', async () => Promise.reject(new Error('async failure')));
      await expect(subs.handlersFor('x')[0].invoke(event, context)).rejects.toThrow('async failure');
    });
  });

  describe('route cache', () => {
    it('returns the same array for a type until a handler is added or removed', () => {
      const subs = manager();
      subs.add('a.*', noop, { name: 'first' });
      const before = subs.handlersFor('a.b');
      expect(subs.handlersFor('a.b')).toBe(before);

      const second = subs.add('a.**', noop, { name: 'second' });
      const afterAdd = subs.handlersFor('a.b');
      expect(afterAdd).not.toBe(before);
      expect(afterAdd.map((h) => h.name)).toEqual(['first', 'second']);

      expect(subs.remove(second)).toBe(true);
      expect(subs.handlersFor('a.b').map((h) => h.name)).toEqual(['first']);
    });

    it('hands out arrays callers cannot change', () => {
      const subs = manager();
      subs.add('a', noop, { name: 'h' });
      const handlers = subs.handlersFor('a') as unknown as unknown[];
      expect(() => handlers.push('x')).toThrow(TypeError);
      expect(subs.handlersFor('a')).toHaveLength(1);
    });
  });

  describe('remove', () => {
    it('removes by subscription or by id, and frees the name', () => {
      const subs = manager();
      const one = subs.add('a', noop, { name: 'one' });
      const two = subs.add('a', noop, { name: 'two' });
      expect(subs.remove(one)).toBe(true);
      expect(subs.remove(two.id)).toBe(true);
      expect(subs.handlersFor('a')).toEqual([]);
      expect(subs.get('one')).toBeUndefined();
      expect(subs.all()).toEqual([]);
      expect(() => subs.add('b', noop, { name: 'one' })).not.toThrow();
    });

    it('answers false for an unknown or already removed subscription', () => {
      const subs = manager();
      const one = subs.add('a', noop, { name: 'one' });
      expect(subs.remove('no-such-id')).toBe(false);
      expect(subs.remove(one)).toBe(true);
      expect(subs.remove(one)).toBe(false);
    });
  });

  describe('names', () => {
    it('refuses a second handler with a taken name, naming both', () => {
      const subs = manager();
      subs.add('order.placed', noop, { name: 'notify', origin: 'OrderHandlers.onPlaced', source: 'decorator' });
      let caught: unknown;
      try {
        subs.add('order.shipped', noop, { name: 'notify', origin: 'ShippingHandlers.onShipped', source: 'decorator' });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(EventBusConfigurationError);
      expect((caught as EventBusConfigurationError).option).toBe('name');
      const message = (caught as Error).message;
      expect(message).toContain('"notify"');
      expect(message).toContain('OrderHandlers.onPlaced (order.placed)');
      expect(message).toContain('ShippingHandlers.onShipped (order.shipped)');
      expect(subs.all()).toHaveLength(1);
    });

    it('names a runtime handler after its function', () => {
      const subs = manager();
      function sendReceipt(): void {}
      const onFailure = () => undefined;
      expect(subs.add('order.paid', sendReceipt).handler).toBe('sendReceipt');
      expect(subs.add('**.failed', onFailure).handler).toBe('onFailure');
    });

    it('numbers repeated uses of one function: fn, fn#2, fn#3', () => {
      const subs = manager();
      function handle(): void {}
      expect([subs.add('a', handle), subs.add('b', handle), subs.add('c', handle)].map((s) => s.handler)).toEqual([
        'handle',
        'handle#2',
        'handle#3',
      ]);
    });

    it('names anonymous handlers after their patterns, deterministically', () => {
      const names = () => {
        const subs = manager();
        return [
          subs.add(
            ['workflow.*', 'node.**'],
            (
              () => () =>
                undefined
            )(),
          ).handler,
          subs.add(
            ['workflow.*', 'node.**'],
            (
              () => () =>
                undefined
            )(),
          ).handler,
          subs.add(
            '**',
            (
              () => () =>
                undefined
            )(),
          ).handler,
          subs.add('x', noop.bind(null)).handler,
        ];
      };
      expect(names()).toEqual(['workflow.*|node.**#1', 'workflow.*|node.**#2', '**#1', 'x#1']);
      expect(names()).toEqual(names());
    });

    it('skips numbered names that are already taken', () => {
      const subs = manager();
      subs.add('a', noop, { name: 'a#1' });
      expect(
        subs.add(
          'a',
          (
            () => () =>
              undefined
          )(),
        ).handler,
      ).toBe('a#2');
    });

    it.each(['', 'has space', 'has:colon', 'x'.repeat(201), 42])('refuses the name %p', (name) => {
      expect(() => manager().add('a', noop, { name: name as string })).toThrow(EventBusConfigurationError);
    });
  });

  describe('validation on add', () => {
    it('refuses invalid patterns', () => {
      const subs = manager();
      expect(() => subs.add('workflow.node*', noop)).toThrow(InvalidEventPatternError);
      expect(() => subs.add(['ok', 'a..b'], noop)).toThrow(InvalidEventPatternError);
      expect(subs.all()).toEqual([]);
    });

    it('refuses an empty pattern list', () => {
      expect(() => manager().add([], noop)).toThrow('at least one pattern');
    });

    it('refuses a handler that is not a function', () => {
      expect(() => manager().add('a', 'nope' as unknown as () => void)).toThrow(EventBusConfigurationError);
    });

    it('refuses an invalid retry policy, naming the handler', () => {
      const subs = manager();
      expect(() =>
        subs.add('a', noop, { name: 'h', retry: { maxAttempts: 0, backoff: { type: 'fixed', delay: 1 } } }),
      ).toThrow('Invalid event bus option "retry[h].maxAttempts"');
      expect(subs.get('h')).toBeUndefined();
    });
  });

  describe('describeRoutes', () => {
    it('lists every handler with its patterns, source and retry policy', () => {
      const subs = manager();
      subs.add(['workflow.**', '**.failed'], noop, { name: 'Audit.record', source: 'decorator' });
      subs.add('order.*', noop, {
        name: 'Mailer.send',
        source: 'decorator',
        replay: false,
        retry: { maxAttempts: 5, backoff: { type: 'exponential', delay: 100, maxDelay: 5000, jitter: 0.2 } },
      });
      subs.add('x', noop, { name: 'custom', retry: { maxAttempts: 2, backoff: () => 5 } });
      expect(subs.describeRoutes()).toBe(
        [
          'Event routes (3 handlers):',
          '  workflow.**, **.failed -> Audit.record (decorator; retry: default)',
          '  order.* -> Mailer.send (decorator; retry: 5 attempts, exponential 100 ms up to 5000 ms, jitter 0.2; no replay)',
          '  x -> custom (runtime; retry: 2 attempts, custom backoff)',
        ].join('\n'),
      );
    });

    it('says when there is no handler', () => {
      expect(manager().describeRoutes()).toBe('No event handlers registered.');
    });
  });

  it('keeps managers independent of each other', () => {
    const first = manager();
    const second = manager();
    first.add('a', noop, { name: 'h' });
    expect(second.handlersFor('a')).toEqual([]);
    expect(() => second.add('a', noop, { name: 'h' })).not.toThrow();
  });
});
