/**
 * The contract between the global setup and the suites (test/support/environment.ts): whatever the
 * machine has, the workers get a PostgreSQL that answers, an honest Redis flag, and in CI
 * (EVENT_BUS_REQUIRE_SERVICES=1) both real services.
 */
import { describe, expect, it } from '@jest/globals';
import { redisAvailable, servicesRequired, TEST_ENV } from '../support/environment.js';
import { probePostgres, probeRedis } from '../support/service-probe.js';

describe('test environment', () => {
  it('hands the workers a PostgreSQL that answers, and says where it comes from', async () => {
    const url = process.env[TEST_ENV.databaseUrl];
    expect(url).toBeDefined();
    expect(await probePostgres(url!)).toBeUndefined();
    const mode = process.env[TEST_ENV.databaseMode];
    expect(['configured', 'local', 'embedded']).toContain(mode);
    if (servicesRequired()) expect(mode).not.toBe('embedded');
  });

  it('flags Redis as available exactly when it answers', async () => {
    expect(['0', '1']).toContain(process.env[TEST_ENV.redisAvailable]);
    if (redisAvailable()) expect(await probeRedis(process.env[TEST_ENV.redisUrl]!)).toBeUndefined();
    if (servicesRequired()) expect(redisAvailable()).toBe(true);
  });

  it('gives suites a place to report what cannot run here', () => {
    expect(process.env[TEST_ENV.noticesDir]).toMatch(/event-bus-notices-/);
  });
});
