/**
 * Deterministic publisher crashes for the fault suite: a store and a queue that SIGKILL their own
 * process right after the n-th INSERT (or `add`/`addBulk`) returned — the windows between "stored" and
 * "enqueued", and between "enqueued" and "job id recorded, publish resolved". Test code only.
 */
import { Queue } from 'bullmq';
import type { DataSource } from 'typeorm';
import {
  EventStoreRepository,
  PersistentEventStore,
  type AppendedEvent,
  type EventWriteOptions,
  type NewDomainEvent,
} from '@app/event-bus';
import { env, redisConnection, report } from './child-bus.js';

function die(where: string): never {
  report({ killingSelf: where });
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable: SIGKILL was sent');
}

export function killingStore(dataSource: DataSource, killAfter: number): PersistentEventStore {
  let appends = 0;
  class KillAfterInsertStore extends PersistentEventStore {
    override async append<P = unknown>(
      events: NewDomainEvent<P>[],
      options?: EventWriteOptions,
    ): Promise<AppendedEvent<P>[]> {
      const appended = await super.append(events, options);
      if (++appends >= killAfter) die('after-insert');
      return appended;
    }
  }
  return new KillAfterInsertStore(new EventStoreRepository(dataSource));
}

export function killingQueue(killAfter: number): Queue {
  let adds = 0;
  // A lone event is enqueued with `add`, a batch with `addBulk`: either counts.
  class KillAfterAddQueue extends Queue {
    override async add(...args: Parameters<Queue['add']>): ReturnType<Queue['add']> {
      const job = await super.add(...args);
      if (++adds >= killAfter) die('after-addbulk');
      return job;
    }

    override async addBulk(...args: Parameters<Queue['addBulk']>): ReturnType<Queue['addBulk']> {
      const jobs = await super.addBulk(...args);
      if (++adds >= killAfter) die('after-addbulk');
      return jobs;
    }
  }
  // The producer connection the bus makes for itself: no offline queue, one try per command.
  return new KillAfterAddQueue(env('QUEUE_NAME'), {
    connection: { ...redisConnection(), enableOfflineQueue: false, maxRetriesPerRequest: 1 },
    prefix: env('QUEUE_PREFIX'),
  });
}
