import { describe, expect, it } from '@jest/globals';
import { EventValidationError } from '@app/event-bus';
import { Test } from '@nestjs/testing';
import { DataSource } from 'typeorm';
import { Queue } from 'bullmq';

describe('toolchain', () => {
  it('loads nest, typeorm, bullmq', async () => {
    const mod = await Test.createTestingModule({}).compile();
    expect(mod).toBeDefined();
    const ds = new DataSource({ type: 'postgres', url: 'postgres://postgres@127.0.0.1:5432/test' });
    await ds.initialize();
    expect(await ds.query('select 1 as x')).toEqual([{ x: 1 }]);
    await ds.destroy();
    const q = new Queue('smoke', { connection: { host: '127.0.0.1', port: 6379 } });
    await q.add('x', {});
    await q.obliterate({ force: true });
    await q.close();
    expect(new EventValidationError([{ field: 'a', message: 'b' }]).name).toBe('EventValidationError');
  });
});
