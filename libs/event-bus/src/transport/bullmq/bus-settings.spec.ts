import { describe, expect, it } from '@jest/globals';
import { resolveRelaySettings } from './bus-settings.js';

describe('resolveRelaySettings', () => {
  const defaults = { intervalMs: 1000, batchSize: 500, graceMs: 2000, listen: true, lostJobCheckIntervalMs: 30_000 };

  it('runs the relay with its defaults unless told otherwise', () => {
    expect(resolveRelaySettings(undefined)).toEqual(defaults);
    expect(resolveRelaySettings(true)).toEqual(defaults);
    expect(resolveRelaySettings({})).toEqual(defaults);
  });

  it('turns it off with false or enabled: false', () => {
    expect(resolveRelaySettings(false)).toBeUndefined();
    expect(resolveRelaySettings({ enabled: false, intervalMs: 5 })).toBeUndefined();
  });

  it('takes each setting given', () => {
    expect(resolveRelaySettings({ intervalMs: 250, batchSize: 50, graceMs: 0, lostJobCheckIntervalMs: 5000 })).toEqual({
      intervalMs: 250,
      batchSize: 50,
      graceMs: 0,
      listen: true,
      lostJobCheckIntervalMs: 5000,
    });
  });
});
