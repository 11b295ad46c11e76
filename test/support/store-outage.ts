/**
 * A DataSource on a test database that reaches PostgreSQL through a `TcpProxy`, so a suite can make
 * the store refuse or freeze (tcp-proxy.ts) while its own set-up and checks use the direct one.
 */
import { eventBusEntities } from '@app/event-bus';
import { DataSource } from 'typeorm';
import type { TestDatabase } from './database.js';
import { startTcpProxy } from './tcp-proxy.js';
import type { TcpProxy } from './tcp-proxy.js';

export interface ProxiedDataSource {
  proxy: TcpProxy;
  /** Initialized, on the test database, through the proxy. */
  dataSource: DataSource;
  /** Destroys the DataSource and stops the proxy. Safe to call twice. */
  close(): Promise<void>;
}

export async function proxiedDataSource(db: TestDatabase, poolSize: number): Promise<ProxiedDataSource> {
  const direct = new URL(db.url);
  const proxy = await startTcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
  const url = new URL(db.url);
  url.port = String(proxy.port);
  const dataSource = new DataSource({
    type: 'postgres',
    url: url.toString(),
    entities: eventBusEntities,
    installExtensions: false,
    poolSize,
  });
  const close = async (): Promise<void> => {
    await proxy.restore().catch(() => undefined);
    if (dataSource.isInitialized) await dataSource.destroy().catch(() => undefined);
    await proxy.close();
  };
  try {
    await dataSource.initialize();
  } catch (error) {
    await close();
    throw error;
  }
  return { proxy, dataSource, close };
}

/**
 * The rejection of `work`, or a failure naming it when it resolves or does not settle within
 * `withinMs` (far above the deadline under test, far below Jest's, so a hang reads clearly).
 */
export async function rejectionOf(work: Promise<unknown>, label: string, withinMs = 4000): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label} did not settle within ${withinMs} ms`)), withinMs);
  });
  try {
    await Promise.race([work, hung]);
  } catch (error) {
    return error;
  } finally {
    clearTimeout(timer);
  }
  throw new Error(`${label} resolved while PostgreSQL was unreachable`);
}
