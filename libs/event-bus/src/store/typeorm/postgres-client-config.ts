/**
 * node-postgres connection settings of the event store's database, read from the TypeORM DataSource.
 * The relay's LISTEN connection and BullMQ's PostgreSQL backend open their own connections to that
 * database: a LISTEN must stay on one connection for its whole life, so it cannot borrow one from
 * TypeORM's pool without pinning a slot of the app's pool forever.
 */
import type { ClientConfig } from 'pg';
import type { DataSource } from 'typeorm';
import { EventBusConfigurationError } from '../../shared/errors.js';

type CredentialOptions = {
  url?: string;
  host?: string;
  port?: number;
  username?: string;
  password?: ClientConfig['password'];
  database?: string;
  ssl?: ClientConfig['ssl'];
};

export function postgresClientConfig(dataSource: DataSource): ClientConfig {
  const options = dataSource.options as {
    type: string;
    replication?: { master: CredentialOptions };
  } & CredentialOptions;
  if (options.type !== 'postgres') {
    throw new EventBusConfigurationError('eventStore', `needs a PostgreSQL DataSource, got type "${options.type}"`);
  }
  // With replication configured, writes (and LISTEN/NOTIFY) belong on the primary.
  const credentials = options.replication?.master ?? options;
  const config: ClientConfig = {};
  if (credentials.url !== undefined) config.connectionString = credentials.url;
  if (credentials.host !== undefined) config.host = credentials.host;
  if (credentials.port !== undefined) config.port = credentials.port;
  if (credentials.username !== undefined) config.user = credentials.username;
  if (credentials.password !== undefined) config.password = credentials.password;
  if (credentials.database !== undefined) config.database = credentials.database;
  const ssl = credentials.ssl ?? options.ssl;
  if (ssl !== undefined) config.ssl = ssl;
  return config;
}
