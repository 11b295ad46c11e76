import { afterEach, describe, expect, it } from '@jest/globals';
import { Controller, Injectable, Module, Scope, type LoggerService, type Provider } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Test, type TestingModule } from '@nestjs/testing';
import { OnEvent } from './on-event.decorator.js';
import { EventBusConfigurationError, InvalidEventPatternError } from '../shared/errors.js';
import { EVENT_BUS_OPTIONS } from './event-bus.constants.js';
import type { StoredEvent } from '../events/domain-event.js';
import { OnEventMetadataAccessor } from './on-event-metadata.accessor.js';
import type { EventContext } from '../subscriptions/subscription.js';
import { SubscriptionExplorer } from './subscription.explorer.js';
import { EmitterDecoratorCheck } from './emitter-decorator.check.js';
import { SubscriptionLoader } from './subscription.loader.js';
import { SubscriptionManager } from '../subscriptions/subscription-manager.js';

const retry = { maxAttempts: 4, backoff: { type: 'fixed' as const, delay: 10 } };

@Injectable()
class WorkflowHandlers {
  readonly seen: Array<{ self: unknown; event: StoredEvent; context: EventContext }> = [];

  @OnEvent('workflow.started')
  onStarted(event: StoredEvent, context: EventContext): string {
    this.seen.push({ self: this, event, context });
    return 'ok';
  }

  @OnEvent(['workflow.node.*', 'workflow.node.*.retry'], { name: 'nodes', retry, replay: false })
  onNode(): void {}

  notAHandler(): void {}
}

@Injectable()
class ProjectionHandlers {
  @OnEvent('workflow.**', { ordered: true, startFrom: 'beginning', onExhausted: 'block', transactional: true })
  project(): void {}
}

@Controller()
class StatusController {
  @OnEvent('**.failed')
  onFailed(): void {}
}

@Injectable()
class StackedHandlers {
  @OnEvent('order.placed', { retry })
  @OnEvent(['order.paid', 'order.placed'])
  @OnEvent('order.shipped', { retry, name: 'orders' })
  onOrder(): void {}
}

@Injectable()
class BaseHandlers {
  @OnEvent('base.event')
  onBase(): void {}
}

@Injectable()
class DerivedHandlers extends BaseHandlers {}

@Injectable({ scope: Scope.REQUEST })
class RequestScopedHandlers {
  @OnEvent('a')
  on(): void {}
}

@Injectable({ scope: Scope.TRANSIENT })
class TransientHandlers {
  @OnEvent('a')
  on(): void {}
}

@Injectable({ scope: Scope.REQUEST })
class RequestScopedService {}

/** Request-scoped by inheritance: it depends on a request-scoped provider. */
@Injectable()
class ImplicitlyRequestScopedHandlers {
  constructor(readonly service: RequestScopedService) {}

  @OnEvent('a')
  on(): void {}
}

/** Request-scoped, but no handler: not the explorer's business. */
@Injectable({ scope: Scope.REQUEST })
class RequestScopedWithoutHandlers {
  method(): void {}
}

const silent: LoggerService = { log: () => undefined, error: () => undefined, warn: () => undefined };

let moduleRef: TestingModule | undefined;

afterEach(async () => {
  await moduleRef?.close();
  moduleRef = undefined;
});

async function explore(providers: Provider[], controllers: Array<new (...args: never[]) => unknown> = []) {
  moduleRef = await Test.createTestingModule({
    imports: [DiscoveryModule],
    providers: [OnEventMetadataAccessor, SubscriptionExplorer, ...providers],
    controllers,
  }).compile();
  return moduleRef.get(SubscriptionExplorer).explore();
}

describe('SubscriptionExplorer', () => {
  it('finds @OnEvent methods on providers and controllers, as plain descriptors', async () => {
    const descriptors = await explore([WorkflowHandlers], [StatusController]);
    const handlers = moduleRef!.get(WorkflowHandlers);
    const controller = moduleRef!.get(StatusController);

    expect(descriptors).toHaveLength(3);
    expect(descriptors).toEqual(
      expect.arrayContaining([
        {
          name: 'WorkflowHandlers.onStarted',
          patterns: ['workflow.started'],
          options: {},
          instance: handlers,
          methodName: 'onStarted',
          origin: 'WorkflowHandlers.onStarted',
        },
        {
          name: 'nodes',
          patterns: ['workflow.node.*', 'workflow.node.*.retry'],
          options: { name: 'nodes', retry, replay: false },
          instance: handlers,
          methodName: 'onNode',
          origin: 'WorkflowHandlers.onNode',
        },
        {
          name: 'StatusController.onFailed',
          patterns: ['**.failed'],
          options: {},
          instance: controller,
          methodName: 'onFailed',
          origin: 'StatusController.onFailed',
        },
      ]),
    );
  });

  it('skips aliases, so an aliased provider is found once', async () => {
    const descriptors = await explore([
      WorkflowHandlers,
      { provide: 'WORKFLOW_HANDLERS_ALIAS', useExisting: WorkflowHandlers },
    ]);
    expect(descriptors.map((d) => d.name).sort()).toEqual(['WorkflowHandlers.onStarted', 'nodes']);
  });

  it('skips wrappers without an instance and plain values', async () => {
    const descriptors = await explore([
      { provide: 'NOTHING', useValue: undefined },
      { provide: 'NULL_FACTORY', useFactory: () => null },
      { provide: 'CONFIG', useValue: { onStarted: () => undefined } },
    ]);
    expect(descriptors).toEqual([]);
  });

  it('finds handlers on instances made by a factory', async () => {
    const descriptors = await explore([{ provide: 'FROM_FACTORY', useFactory: () => new StatusController() }]);
    expect(descriptors.map((d) => d.name)).toEqual(['StatusController.onFailed']);
  });

  it('merges stacked decorators into one handler with every pattern', async () => {
    const [descriptor, ...others] = await explore([StackedHandlers]);
    expect(others).toEqual([]);
    expect(descriptor.name).toBe('orders');
    expect(descriptor.patterns).toEqual(['order.placed', 'order.paid', 'order.shipped']);
    expect(descriptor.options).toEqual({ retry, name: 'orders' });
  });

  it('finds inherited handlers under the class that is provided', async () => {
    const descriptors = await explore([DerivedHandlers]);
    expect(descriptors.map((d) => d.name)).toEqual(['DerivedHandlers.onBase']);
  });

  it.each([
    [
      'a request-scoped',
      RequestScopedHandlers,
      'RequestScopedHandlers.on is an @OnEvent handler on a request-scoped provider',
    ],
    ['a transient', TransientHandlers, 'TransientHandlers.on is an @OnEvent handler on a transient provider'],
    [
      'an implicitly request-scoped',
      ImplicitlyRequestScopedHandlers,
      'ImplicitlyRequestScopedHandlers.on is an @OnEvent handler on a request-scoped provider',
    ],
  ])('refuses %s host with a clear error', async (_label, host, message) => {
    const providers: Provider[] = [host, RequestScopedService];
    const error = await explore(providers).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(EventBusConfigurationError);
    expect((error as Error).message).toContain(message);
    expect((error as Error).message).toContain('singleton');
  });

  it('leaves request-scoped providers without handlers alone', async () => {
    await expect(explore([RequestScopedWithoutHandlers, WorkflowHandlers])).resolves.toHaveLength(2);
  });

  describe('stacked decorators that disagree', () => {
    it.each([
      ['retry', { retry }, { retry: { ...retry, maxAttempts: 9 } }],
      ['name', { name: 'one' }, { name: 'two' }],
      ['replay', { replay: true }, { replay: false }],
    ])('fail on %s, naming the method', async (option, first, second) => {
      @Injectable()
      class Conflicted {
        @OnEvent('a', first)
        @OnEvent('b', second)
        handle(): void {}
      }
      const error = await explore([Conflicted]).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(EventBusConfigurationError);
      expect((error as EventBusConfigurationError).option).toBe(option);
      expect((error as Error).message).toContain('Conflicted.handle');
      expect((error as Error).message).toContain('disagree');
    });

    it('accept an option given once, or repeated with an equal value', async () => {
      @Injectable()
      class Agreeing {
        @OnEvent('a', { retry: { maxAttempts: 2, backoff: { type: 'fixed', delay: 1 } } })
        @OnEvent('b', { retry: { maxAttempts: 2, backoff: { type: 'fixed', delay: 1 } }, replay: false })
        @OnEvent('c')
        handle(): void {}
      }
      const [descriptor] = await explore([Agreeing]);
      expect(descriptor.options).toEqual({
        retry: { maxAttempts: 2, backoff: { type: 'fixed', delay: 1 } },
        replay: false,
      });
    });
  });

  it('refuses an invalid pattern, naming the pattern and the method', async () => {
    @Injectable()
    class BadPattern {
      @OnEvent(['ok', 'workflow.node*'])
      handle(): void {}
    }
    const error = await explore([BadPattern]).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidEventPatternError);
    expect((error as Error).message).toContain('"workflow.node*"');
    expect((error as Error).message).toContain('BadPattern.handle');
  });

  it('refuses an empty pattern list and unknown or invalid options, naming the method', async () => {
    @Injectable()
    class NoPattern {
      @OnEvent([])
      handle(): void {}
    }
    @Injectable()
    class UnknownOption {
      @OnEvent('a', { retries: 3 } as never)
      handle(): void {}
    }
    @Injectable()
    class BadRetry {
      @OnEvent('a', { retry: { maxAttempts: 0, backoff: { type: 'fixed', delay: 1 } } })
      handle(): void {}
    }
    @Injectable()
    class BadReplay {
      @OnEvent('a', { replay: 'no' as never })
      handle(): void {}
    }
    @Injectable()
    class BadTransactional {
      @OnEvent('a', { transactional: 'yes' as never })
      handle(): void {}
    }
    @Injectable()
    class BadTimeout {
      @OnEvent('a', { timeoutMs: 0 })
      handle(): void {}
    }
    for (const [host, text] of [
      [NoPattern, 'NoPattern.handle needs at least one pattern'],
      [BadTimeout, '"BadTimeout.handle.timeoutMs": must be a positive integer of milliseconds'],
      [UnknownOption, 'UnknownOption.handle has no option "retries"'],
      [BadRetry, '"BadRetry.handle.retry.maxAttempts"'],
      [BadReplay, 'BadReplay.handle: replay must be true or false'],
      [BadTransactional, 'BadTransactional.handle: transactional must be true or false'],
    ] as const) {
      const error = await explore([host]).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(EventBusConfigurationError);
      expect((error as Error).message).toContain(text);
      await moduleRef?.close();
      moduleRef = undefined;
    }
  });
});

describe('SubscriptionLoader', () => {
  async function boot(providers: Provider[], logs: string[] = []) {
    const logger: LoggerService = { ...silent, log: (message: unknown) => void logs.push(String(message)) };
    moduleRef = await Test.createTestingModule({
      imports: [DiscoveryModule],
      providers: [
        OnEventMetadataAccessor,
        SubscriptionExplorer,
        EmitterDecoratorCheck,
        SubscriptionLoader,
        { provide: SubscriptionManager, useValue: new SubscriptionManager({ logger: silent }) },
        { provide: EVENT_BUS_OPTIONS, useValue: { logger } },
        ...providers,
      ],
    }).compile();
    await moduleRef.init();
    return moduleRef.get(SubscriptionManager);
  }

  it('registers discovered handlers as decorator handlers and logs the routes once', async () => {
    const logs: string[] = [];
    const subscriptions = await boot([WorkflowHandlers, StackedHandlers], logs);
    expect(subscriptions.all().map((h) => [h.name, h.source])).toEqual(
      expect.arrayContaining([
        ['WorkflowHandlers.onStarted', 'decorator'],
        ['nodes', 'decorator'],
        ['orders', 'decorator'],
      ]),
    );
    expect(subscriptions.get('nodes')).toMatchObject({
      retry,
      replay: false,
      patterns: ['workflow.node.*', 'workflow.node.*.retry'],
    });
    expect(subscriptions.handlersFor('order.paid').map((h) => h.name)).toEqual(['orders']);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toContain('Event routes (3 handlers)');
    expect(logs[0]).toContain('workflow.started -> WorkflowHandlers.onStarted');
  });

  it('takes every option of subscribe() on @OnEvent: ordered, startFrom, onExhausted, transactional', async () => {
    const subscriptions = await boot([ProjectionHandlers], []);
    expect(subscriptions.get('ProjectionHandlers.project')).toMatchObject({
      ordered: { startFrom: 'beginning', onExhausted: 'block' },
      transactional: true,
    });
    // An ordered handler is fed by the log, not by queue jobs.
    expect(subscriptions.handlersFor('workflow.started')).toEqual([]);
    expect(subscriptions.orderedHandlers().map((handler) => handler.name)).toEqual(['ProjectionHandlers.project']);
  });

  it('calls the handler with the provider instance as this', async () => {
    const subscriptions = await boot([WorkflowHandlers]);
    const instance = moduleRef!.get(WorkflowHandlers);
    const event = { id: 'e', type: 'workflow.started' } as StoredEvent;
    const context: EventContext = {
      attempt: 1,
      replay: false,
      handler: 'WorkflowHandlers.onStarted',
      signal: new AbortController().signal,
    };

    const [handler] = subscriptions.handlersFor('workflow.started');
    await expect(handler.invoke(event, context)).resolves.toBe('ok');
    expect(instance.seen).toEqual([{ self: instance, event, context }]);
  });

  it('fails start-up when two providers declare the same handler name, naming both', async () => {
    @Injectable()
    class First {
      @OnEvent('a', { name: 'shared' })
      handle(): void {}
    }
    @Injectable()
    class Second {
      @OnEvent('b', { name: 'shared' })
      handle(): void {}
    }
    const error = await boot([First, Second]).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(EventBusConfigurationError);
    expect((error as Error).message).toContain('First.handle (a)');
    expect((error as Error).message).toContain('Second.handle (b)');
  });

  it('fails start-up when one class is provided by two modules (two instances would deliver twice)', async () => {
    @Module({ providers: [WorkflowHandlers] })
    class OneModule {}
    @Module({ providers: [WorkflowHandlers] })
    class OtherModule {}
    const logger = silent;
    moduleRef = await Test.createTestingModule({
      imports: [DiscoveryModule, OneModule, OtherModule],
      providers: [
        OnEventMetadataAccessor,
        SubscriptionExplorer,
        EmitterDecoratorCheck,
        SubscriptionLoader,
        { provide: SubscriptionManager, useValue: new SubscriptionManager({ logger }) },
        { provide: EVENT_BUS_OPTIONS, useValue: { logger } },
      ],
    }).compile();
    await expect(moduleRef.init()).rejects.toThrow('handler name "WorkflowHandlers.onStarted" is taken twice');
  });
});
