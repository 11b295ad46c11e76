import { describe, expect, it } from '@jest/globals';
import { ON_EVENT_METADATA } from './event-bus.constants.js';
import { OnEvent, type OnEventDeclaration } from './on-event.decorator.js';

const declarationsOf = (method: unknown) =>
  Reflect.getMetadata(ON_EVENT_METADATA, method as object) as OnEventDeclaration[];

describe('@OnEvent', () => {
  it('stores the patterns and options on the method', () => {
    class Handlers {
      @OnEvent('workflow.started', { name: 'started', replay: false })
      onStarted(): void {}
    }
    expect(declarationsOf(Handlers.prototype.onStarted)).toEqual([
      { patterns: ['workflow.started'], options: { name: 'started', replay: false } },
    ]);
  });

  it('accepts an array of patterns', () => {
    class Handlers {
      @OnEvent(['a.*', 'b.**'])
      on(): void {}
    }
    expect(declarationsOf(Handlers.prototype.on)).toEqual([{ patterns: ['a.*', 'b.**'], options: {} }]);
  });

  it('stacks: every decorator is kept, in the order written', () => {
    const retry = { maxAttempts: 2, backoff: { type: 'fixed' as const, delay: 5 } };
    class Handlers {
      @OnEvent('first')
      @OnEvent(['second', 'third'], { retry })
      @OnEvent('fourth')
      on(): void {}
    }
    expect(declarationsOf(Handlers.prototype.on)).toEqual([
      { patterns: ['first'], options: {} },
      { patterns: ['second', 'third'], options: { retry } },
      { patterns: ['fourth'], options: {} },
    ]);
  });

  it('keeps the metadata of different methods apart', () => {
    class Handlers {
      @OnEvent('a')
      one(): void {}
      @OnEvent('b')
      two(): void {}
      plain(): void {}
    }
    expect(declarationsOf(Handlers.prototype.one)).toEqual([{ patterns: ['a'], options: {} }]);
    expect(declarationsOf(Handlers.prototype.two)).toEqual([{ patterns: ['b'], options: {} }]);
    expect(declarationsOf(Handlers.prototype.plain)).toBeUndefined();
  });

  it("copies its arguments, so later changes to the caller's arrays do not leak in", () => {
    const patterns = ['a'];
    const options = { name: 'x' };
    class Handlers {
      @OnEvent(patterns, options)
      on(): void {}
    }
    patterns.push('b');
    options.name = 'y';
    expect(declarationsOf(Handlers.prototype.on)).toEqual([{ patterns: ['a'], options: { name: 'x' } }]);
  });

  it('refuses an accessor', () => {
    expect(() => {
      class Handlers {
        @OnEvent('a')
        get value(): number {
          return 1;
        }
      }
      return Handlers;
    }).toThrow('@OnEvent goes on a method; Handlers.value is not one');
  });
});
