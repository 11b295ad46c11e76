import { afterEach, describe, expect, it } from '@jest/globals';
import { applyWorkerOverride, overrideEventBusWorker } from './worker-override.js';

describe('worker override (the CLI boots an app without consuming)', () => {
  afterEach(() => overrideEventBusWorker(undefined));

  it("leaves the module's own worker option alone unless set", () => {
    expect(applyWorkerOverride({ queueName: 'q', worker: true })).toEqual({ queueName: 'q', worker: true });
    expect(applyWorkerOverride({ queueName: 'q' })).toEqual({ queueName: 'q' });
  });

  it('turns the worker off for every module created while set, without touching the options given', () => {
    overrideEventBusWorker(false);
    const given = { queueName: 'q', worker: true };
    expect(applyWorkerOverride(given)).toEqual({ queueName: 'q', worker: false });
    expect(applyWorkerOverride({})).toEqual({ worker: false });
    expect(given.worker).toBe(true);
  });
});
