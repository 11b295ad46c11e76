import { describe, expect, it } from '@jest/globals';
import { EventBusConfigurationError } from '../shared/errors.js';
import { EVENT_BUS_HEALTH_DEFAULTS, resolveHealthOptions, summarizeHealth } from './event-bus-health.js';

describe('health options', () => {
  it('fills in the defaults and keeps what is given', () => {
    expect(resolveHealthOptions()).toEqual(EVENT_BUS_HEALTH_DEFAULTS);
    expect(resolveHealthOptions({ outboxOldestMs: 5000 })).toEqual({
      ...EVENT_BUS_HEALTH_DEFAULTS,
      outboxOldestMs: 5000,
    });
  });

  it.each([
    [{ timeoutMs: 0 }, 'timeoutMs'],
    [{ orderedLagEvents: -1 }, 'orderedLagEvents'],
    [{ workerStuckMs: 1.5 }, 'workerStuckMs'],
    [{ outboxOldestMs: '60s' }, 'outboxOldestMs'],
    [{ outboxOldestMS: 1000 }, 'outboxOldestMS'],
  ])('rejects %j, naming %s', (options, option) => {
    expect(() => resolveHealthOptions(options as never)).toThrow(EventBusConfigurationError);
    expect(() => resolveHealthOptions(options as never)).toThrow(expect.objectContaining({ option }));
  });
});

describe('the health summary', () => {
  it('is healthy when every check is, and lists each failing check by name with its reason', () => {
    const up = { healthy: true };
    const checks = { bus: up, queue: up, worker: up, outbox: up, orderedHandlers: up };
    expect(summarizeHealth(checks)).toEqual({ healthy: true, problems: [], checks });
    const down = { ...checks, queue: { healthy: false, reason: 'Redis is unreachable: refused' } };
    expect(summarizeHealth(down)).toMatchObject({ healthy: false, problems: ['queue: Redis is unreachable: refused'] });
  });
});
