import { describe, expect, it } from '@jest/globals';
import { HandlerTimeoutError, NonRetryableEventError } from '../shared/errors.js';
import type { StoredEvent } from '../events/domain-event.js';
import type { RegisteredHandler } from './subscription-manager.js';
import { describeError, eventForHandlers, runHandler, toError, type HandlerFailure } from './handler-runner.js';

const event: StoredEvent = {
  id: '0b5f0a8e-2f55-4d47-9d59-3c3f0f1a9b10',
  type: 'workflow.started',
  timestamp: '2026-01-01T00:00:00.000Z',
  tenantId: '11111111-1111-4111-8111-111111111111',
  payload: { a: 1 },
  sequenceNumber: 7,
  version: null,
  status: 'pending',
  createdAt: '2026-01-01T00:00:00.000Z',
};

function handler(invoke: RegisteredHandler['invoke']): RegisteredHandler {
  return {
    id: 'sub-1',
    name: 'Test.handle',
    patterns: ['**'],
    retry: undefined,
    replay: true,
    timeoutMs: undefined,
    transactional: false,
    source: 'runtime',
    ordered: undefined,
    invoke,
  };
}

const context = { attempt: 1, replay: false, handler: 'Test.handle' };

describe('runHandler', () => {
  it('reports success', async () => {
    await expect(
      runHandler(
        handler(async () => 'ignored'),
        event,
        context,
      ),
    ).resolves.toEqual({
      handler: 'Test.handle',
      ok: true,
    });
  });

  it('reports an ordinary error as retryable', async () => {
    const outcome = await runHandler(
      handler(async () => Promise.reject(new TypeError('bad'))),
      event,
      context,
    );
    expect(outcome).toMatchObject({ ok: false, retryable: true, error: expect.any(TypeError) });
  });

  it('reports NonRetryableEventError, or an error of that name, as final', async () => {
    const thrown = await runHandler(
      handler(async () => Promise.reject(new NonRetryableEventError('no'))),
      event,
      context,
    );
    expect(thrown).toMatchObject({ ok: false, retryable: false });
    const lookalike = Object.assign(new Error('no'), { name: 'NonRetryableEventError' });
    const named = await runHandler(
      handler(async () => Promise.reject(lookalike)),
      event,
      context,
    );
    expect(named).toMatchObject({ ok: false, retryable: false });
  });

  it('passes the event and the context through', async () => {
    const seen: unknown[] = [];
    await runHandler(
      handler(async (...args) => void seen.push(...args)),
      event,
      context,
    );
    expect(seen).toEqual([event, { ...context, signal: expect.any(AbortSignal) }]);
  });
});

describe('toError and describeError', () => {
  it('wraps what is not an Error, keeping what it said', () => {
    expect(toError('boom').message).toBe('Handler threw a non-Error value: boom');
    expect(toError({ code: 42 }).message).toBe('Handler threw a non-Error value: {"code":42}');
    const error = new RangeError('out');
    expect(toError(error)).toBe(error);
  });

  it('describes an error as "Name: message", bounded in length', () => {
    expect(describeError(new RangeError('out of range'))).toBe('RangeError: out of range');
    expect(describeError(new Error('x'.repeat(10_000))).length).toBe(4000);
  });
});

describe('eventForHandlers', () => {
  it('shows the event as processing, with the event job id in its metadata', () => {
    expect(eventForHandlers(event)).toEqual({ ...event, status: 'processing', metadata: { jobId: event.id } });
    const withMetadata = { ...event, metadata: { workflowId: 'w1', jobId: 'job-9' } };
    expect(eventForHandlers(withMetadata).metadata).toEqual({ workflowId: 'w1', jobId: 'job-9' });
  });

  describe('limits', () => {
    /** A handler that never settles by itself, recording the signal it got. */
    function hanging(signals: AbortSignal[]): RegisteredHandler['invoke'] {
      return (_event, ctx) => {
        signals.push(ctx.signal);
        return new Promise(() => undefined);
      };
    }

    it('fails an attempt that runs past its timeoutMs with HandlerTimeoutError, and aborts its signal', async () => {
      const signals: AbortSignal[] = [];
      const outcome = await runHandler({ ...handler(hanging(signals)), timeoutMs: 30 }, event, context);
      expect(outcome).toMatchObject({ ok: false, retryable: true, error: expect.any(HandlerTimeoutError) });
      expect((outcome as HandlerFailure).error.message).toBe('Handler "Test.handle" did not finish within 30 ms');
      expect(signals[0].aborted).toBe(true);
      expect(signals[0].reason).toBeInstanceOf(HandlerTimeoutError);
    });

    it("uses the bus's default when the handler declares no timeout, and its own over the default", async () => {
      const signals: AbortSignal[] = [];
      const byDefault = await runHandler(handler(hanging(signals)), event, context, { defaultTimeoutMs: 20 });
      expect((byDefault as HandlerFailure).error).toMatchObject({ timeoutMs: 20 });
      const own = await runHandler({ ...handler(hanging(signals)), timeoutMs: 10 }, event, context, {
        defaultTimeoutMs: 60_000,
      });
      expect((own as HandlerFailure).error).toMatchObject({ timeoutMs: 10 });
    });

    it('leaves the signal alone for an attempt that finishes in time', async () => {
      const signals: AbortSignal[] = [];
      const quick: RegisteredHandler['invoke'] = async (_event, ctx) => void signals.push(ctx.signal);
      await expect(runHandler({ ...handler(quick), timeoutMs: 1000 }, event, context)).resolves.toMatchObject({
        ok: true,
      });
      expect(signals[0].aborted).toBe(false);
    });

    it('aborts the signal of a running attempt when shutdown stops waiting', async () => {
      const stop = new AbortController();
      let seen: AbortSignal | undefined;
      const running = runHandler(
        handler(async (_event, ctx) => {
          seen = ctx.signal;
          await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
          throw ctx.signal.reason;
        }),
        event,
        context,
        { stop: stop.signal },
      );
      stop.abort(new Error('shutdown stopped waiting'));
      const outcome = await running;
      expect(seen?.aborted).toBe(true);
      expect(outcome).toMatchObject({ ok: false, error: { message: 'shutdown stopped waiting' } });
    });
  });

  describe('a transactional handler', () => {
    const manager = { query: async () => [] } as never;
    const transactional = (invoke: RegisteredHandler['invoke']): RegisteredHandler => ({
      ...handler(invoke),
      transactional: true,
    });

    it('runs through the transaction runner, with its manager as context.manager', async () => {
      const runs: string[] = [];
      const seen: unknown[] = [];
      const outcome = await runHandler(
        transactional(async (_event, ctx) => void seen.push(ctx.manager)),
        event,
        context,
        {},
        async (eventId, name, call) => {
          runs.push(`${eventId} ${name}`);
          await call(manager);
        },
      );
      expect(outcome).toEqual({ handler: 'Test.handle', ok: true });
      expect(runs).toEqual([`${event.id} Test.handle`]);
      expect(seen).toEqual([manager]);
    });

    it('succeeds when the runner skips it (it handled the event already)', async () => {
      let called = false;
      const outcome = await runHandler(
        transactional(async () => void (called = true)),
        event,
        context,
        {},
        async () => 'skipped',
      );
      expect(outcome).toMatchObject({ ok: true });
      expect(called).toBe(false);
    });

    it('times out inside the transaction, so the runner sees the attempt fail', async () => {
      let runnerSaw: unknown;
      const outcome = await runHandler(
        { ...transactional(() => new Promise(() => undefined)), timeoutMs: 20 },
        event,
        context,
        {},
        async (_eventId, _name, call) => {
          await call(manager).catch((error: unknown) => {
            runnerSaw = error;
            throw error;
          });
        },
      );
      expect(runnerSaw).toBeInstanceOf(HandlerTimeoutError);
      expect(outcome).toMatchObject({ ok: false, error: expect.any(HandlerTimeoutError) });
    });

    it('fails, never runs outside a transaction, when the delivery has no runner', async () => {
      let called = false;
      const outcome = await runHandler(
        transactional(async () => void (called = true)),
        event,
        context,
      );
      expect(outcome).toMatchObject({ ok: false, error: { message: expect.stringContaining('is transactional') } });
      expect(called).toBe(false);
    });

    it('fails its attempt when shutdown stops waiting, so its transaction rolls back', async () => {
      const stop = new AbortController();
      let runnerSaw: unknown;
      const running = runHandler(
        transactional((_event, ctx) => new Promise(() => void ctx.signal)),
        event,
        context,
        { stop: stop.signal },
        async (_eventId, _name, call) => {
          await call(manager).catch((error: unknown) => {
            runnerSaw = error;
            throw error;
          });
        },
      );
      stop.abort(new Error('shutdown stopped waiting'));
      expect(await running).toMatchObject({ ok: false, error: { message: 'shutdown stopped waiting' } });
      expect(runnerSaw).toMatchObject({ message: 'shutdown stopped waiting' });
    });

    it('leaves context.manager unset for a handler that is not transactional', async () => {
      const seen: unknown[] = [];
      await runHandler(
        handler(async (_event, ctx) => void seen.push('manager' in ctx)),
        event,
        context,
        {},
        async () => {
          throw new Error('not to be used');
        },
      );
      expect(seen).toEqual([false]);
    });
  });
});
