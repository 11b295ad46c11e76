import { describe, expect, it } from '@jest/globals';
import {
  checkRange,
  collectNames,
  parseDateOrBeginning,
  parseIsoDate,
  parseName,
  parsePositiveInteger,
  parseSequence,
  parseUuid,
} from './cli-arguments.js';
import {
  CLI_EXIT,
  CliStartError,
  CliUsageError,
  describeCliError,
  describeErrorAsJson,
  exitCodeFor,
} from './cli-errors.js';
import { EventBusConfigurationError, StoreUnavailableError } from '../../shared/errors.js';
import { describeReplay, replayOptionsOf, resumeCommand } from './replay-summary.js';

const usageError = (call: () => unknown): CliUsageError => {
  try {
    call();
  } catch (error) {
    if (error instanceof CliUsageError) return error;
    throw error;
  }
  throw new Error('expected a CliUsageError');
};

describe('CLI arguments', () => {
  it('reads ISO-8601 dates; one without a zone is UTC, whatever the machine', () => {
    expect(parseIsoDate('--from', '2026-01-31').toISOString()).toBe('2026-01-31T00:00:00.000Z');
    expect(parseIsoDate('--from', '2026-01-31T12:30').toISOString()).toBe('2026-01-31T12:30:00.000Z');
    expect(parseIsoDate('--from', '2026-01-31T12:30:05.250Z').toISOString()).toBe('2026-01-31T12:30:05.250Z');
    expect(parseIsoDate('--from', '2026-01-31T12:00:00+02:00').toISOString()).toBe('2026-01-31T10:00:00.000Z');
  });

  it('refuses a date that is not ISO-8601 or does not exist, naming the option and the value', () => {
    for (const raw of ['yesterday', '31/01/2026', '2026-13-01', '2026-02-30T00:00:00Z', '', '1700000000']) {
      const error = usageError(() => parseIsoDate('--to', raw));
      expect(error.argument).toBe('--to');
      expect(error.message).toContain('--to');
    }
    expect(usageError(() => parseIsoDate('--from', 'yesterday')).message).toContain("got 'yesterday'");
  });

  it("takes 'beginning' or a date where a reset may start", () => {
    expect(parseDateOrBeginning('--from', 'beginning')).toBe('beginning');
    expect(parseDateOrBeginning('--from', '2026-01-01')).toEqual(new Date('2026-01-01T00:00:00Z'));
    expect(() => parseDateOrBeginning('--from', 'start')).toThrow(CliUsageError);
  });

  it('reads UUIDs (lower-cased), positive integers, sequence numbers and names', () => {
    expect(parseUuid('--tenant', ' 11111111-1111-4111-8111-11111111111A ')).toBe(
      '11111111-1111-4111-8111-11111111111a',
    );
    expect(() => parseUuid('--tenant', 'acme')).toThrow(CliUsageError);
    expect(parsePositiveInteger('--limit', '20')).toBe(20);
    for (const raw of ['0', '-1', '1.5', 'ten', '', '99999999999999999999']) {
      expect(() => parsePositiveInteger('--limit', raw)).toThrow(CliUsageError);
    }
    expect(parseSequence('--after-sequence', '0')).toBe(0);
    expect(parseSequence('--after-sequence', '1234')).toBe(1234);
    expect(() => parseSequence('--after-sequence', '-3')).toThrow(CliUsageError);
    expect(parseName('--handler', ' Projection.apply ')).toBe('Projection.apply');
    expect(() => parseName('--handler', '  ')).toThrow(CliUsageError);
  });

  it('collects a repeated option, and comma-separated values', () => {
    const once = collectNames('--type', 'order.placed', undefined);
    expect(collectNames('--type', 'order.paid,order.shipped', once)).toEqual([
      'order.placed',
      'order.paid',
      'order.shipped',
    ]);
    expect(() => collectNames('--type', 'a,,b', undefined)).toThrow(CliUsageError);
  });

  it('wants --to after --from', () => {
    expect(() => checkRange(new Date('2026-01-02'), new Date('2026-01-01'))).toThrow(CliUsageError);
    expect(() => checkRange(new Date('2026-01-01'), new Date('2026-01-01'))).toThrow(CliUsageError);
    expect(() => checkRange(new Date('2026-01-01'), new Date('2026-01-02'))).not.toThrow();
    expect(() => checkRange(new Date('2026-01-01'), undefined)).not.toThrow();
  });
});

describe('CLI errors', () => {
  it('exits 2 on bad arguments, 1 on a failure, 0 after --help', () => {
    expect(exitCodeFor(new CliUsageError('--from', 'is wrong'))).toBe(CLI_EXIT.usage);
    expect(
      exitCodeFor(new StoreUnavailableError('PostgreSQL did not answer', { cause: new Error('ECONNREFUSED') })),
    ).toBe(CLI_EXIT.failed);
    const commander = (code: string, exitCode: number) => Object.assign(new Error(code), { code, exitCode });
    expect(exitCodeFor(commander('commander.unknownOption', 1))).toBe(CLI_EXIT.usage);
    expect(exitCodeFor(commander('commander.helpDisplayed', 0))).toBe(CLI_EXIT.ok);
  });

  it('describes an error in one line, with its class and cause; the stack only when verbose', () => {
    const error = new StoreUnavailableError('PostgreSQL did not answer\nsecond line', {
      cause: new Error('connect ECONNREFUSED'),
    });
    expect(describeCliError(error, false)).toBe(
      'StoreUnavailableError: PostgreSQL did not answer (cause: connect ECONNREFUSED)',
    );
    expect(describeCliError(error, true)).toContain('    at ');
    expect(describeErrorAsJson(error)).toEqual({ name: 'StoreUnavailableError', message: 'PostgreSQL did not answer' });
    expect(describeCliError('text', false)).toBe('text');
  });

  it('says the app did not start, with its own reason, library error or not', () => {
    const refused = new CliStartError(new Error('connect ECONNREFUSED 127.0.0.1:5432'));
    expect(describeCliError(refused, false)).toBe(
      'CliStartError: The app did not start: connect ECONNREFUSED 127.0.0.1:5432',
    );
    expect(exitCodeFor(refused)).toBe(CLI_EXIT.failed);
    const unmigrated = new CliStartError(new EventBusConfigurationError('schema', 'table event_store is missing'));
    expect(unmigrated.message).toBe(
      'The app did not start: EventBusConfigurationError: Invalid event bus option "schema": table event_store is missing',
    );
  });
});

describe('replay summary', () => {
  const options = {
    from: new Date('2026-01-01T00:00:00Z'),
    to: new Date('2026-02-01T00:00:00Z'),
    type: ['order.placed', 'order.paid'],
    workflow: "wf 'one'",
    tenant: '11111111-1111-4111-8111-111111111111',
    handler: ['Projection.apply'],
  };

  it('maps the options to ReplayOptions', () => {
    expect(replayOptionsOf({ ...options, afterSequence: 7 })).toEqual({
      to: options.to,
      types: options.type,
      workflowId: options.workflow,
      tenantId: options.tenant,
      handlers: options.handler,
      afterSequence: 7,
    });
    expect(replayOptionsOf({ from: options.from })).toEqual({});
  });

  it('says how to resume: the same filters, after the last sequence read', () => {
    expect(resumeCommand(options, 42)).toBe(
      'replay --from 2026-01-01T00:00:00.000Z --to 2026-02-01T00:00:00.000Z --type order.placed --type order.paid ' +
        "--workflow 'wf '\\''one'\\''' --tenant 11111111-1111-4111-8111-111111111111 --handler Projection.apply " +
        '--after-sequence 42',
    );
    const stopped = { total: 10, read: 4, events: 4, handlerCalls: 4, failed: 0, lastSequence: 42, stopped: true };
    expect(describeReplay({ ...stopped, resume: 'replay --from x --after-sequence 42' })).toBe(
      'Replay stopped after 4 events delivered (4 handler calls, 0 failed), 4 of 10 read, last sequence #42.\n' +
        'To resume: replay --from x --after-sequence 42',
    );
  });
});
