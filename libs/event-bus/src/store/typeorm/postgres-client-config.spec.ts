import { describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { EventBusConfigurationError } from '../../shared/errors.js';
import { postgresClientConfig } from './postgres-client-config.js';

describe('postgresClientConfig', () => {
  it("reads the DataSource's credentials field by field", () => {
    const dataSource = new DataSource({
      type: 'postgres',
      host: 'db.internal',
      port: 5433,
      username: 'app',
      password: 'secret',
      database: 'events',
    });
    expect(postgresClientConfig(dataSource)).toEqual({
      host: 'db.internal',
      port: 5433,
      user: 'app',
      password: 'secret',
      database: 'events',
    });
  });

  it('reads a url-configured DataSource', () => {
    const byUrl = new DataSource({ type: 'postgres', url: 'postgres://u@h:5432/d' });
    expect(postgresClientConfig(byUrl)).toMatchObject({ connectionString: 'postgres://u@h:5432/d' });
  });

  it('refuses a DataSource of another database, naming the option', () => {
    // Only the options are read; a DataSource of another driver would need that driver installed.
    const other = { options: { type: 'mysql', host: 'db' } } as unknown as DataSource;
    expect(() => postgresClientConfig(other)).toThrow(EventBusConfigurationError);
  });
});
