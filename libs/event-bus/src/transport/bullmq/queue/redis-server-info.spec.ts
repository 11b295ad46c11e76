import { describe, expect, it } from '@jest/globals';
import { parseRedisInfo } from './redis-server-info.js';

describe('parseRedisInfo', () => {
  it('reads the run id and the eviction policy from INFO', () => {
    const info = [
      '# Server',
      'redis_version:7.0.15',
      'run_id:5f2c0c1a9b8e7d6c5b4a39281706f5e4d3c2b1a0',
      '',
      '# Memory',
      'maxmemory_policy:allkeys-lru',
    ].join('\r\n');
    expect(parseRedisInfo(info)).toEqual({
      runId: '5f2c0c1a9b8e7d6c5b4a39281706f5e4d3c2b1a0',
      maxmemoryPolicy: 'allkeys-lru',
    });
  });

  it('leaves out what INFO does not say (e.g. a server that hides sections)', () => {
    expect(parseRedisInfo('# Server\nredis_version:7.2.0\n')).toEqual({});
  });
});
