import { describe, expect, it } from '@jest/globals';
import { QueryFailedError } from 'typeorm';
import { EventConflictError, StoreUnavailableError } from '../../shared/errors.js';
import { DeadlineExceededError } from '../../shared/with-deadline.js';
import { asStoreError } from './store-availability.js';

function driverError(fields: Record<string, unknown>, message = 'driver error'): Error {
  return Object.assign(new Error(message), fields);
}

describe('asStoreError', () => {
  it.each<[string, unknown]>([
    ['a refused connection', driverError({ code: 'ECONNREFUSED' }, 'connect ECONNREFUSED 127.0.0.1:5432')],
    ['a reset connection', driverError({ code: 'ECONNRESET' })],
    ['a connection that ended under a query', new Error('Connection terminated unexpectedly')],
    ['a missed deadline', new DeadlineExceededError('PostgreSQL', 300)],
    [
      'a server shutting down (57P01), wrapped by TypeORM',
      new QueryFailedError('SELECT 1', [], driverError({ code: '57P01' })),
    ],
    ['no connection slot left (53300)', driverError({ code: '53300' })],
    ['a failed connect to every address of a host', new AggregateError([driverError({ code: 'ECONNREFUSED' })], 'x')],
  ])('turns %s into StoreUnavailableError, keeping the cause', (_label, error) => {
    const mapped = asStoreError(error);
    expect(mapped).toBeInstanceOf(StoreUnavailableError);
    expect((mapped as StoreUnavailableError).cause).toBe(error);
  });

  it.each<[string, unknown]>([
    [
      'a unique violation (idempotent publish handles it)',
      new QueryFailedError('INSERT', [], driverError({ code: '23505' })),
    ],
    ['a syntax error', new QueryFailedError('SELEC', [], driverError({ code: '42601' }))],
    ['an error of the library', new EventConflictError('id', ['payload'])],
    ['a plain error', new Error('something else')],
  ])('leaves %s unchanged', (_label, error) => {
    expect(asStoreError(error)).toBe(error);
  });
});
