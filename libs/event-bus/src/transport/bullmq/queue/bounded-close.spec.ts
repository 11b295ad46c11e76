import { describe, expect, it } from '@jest/globals';
import type { LoggerService } from '@nestjs/common';
import { closeWithin } from './bounded-close.js';

class Warnings implements LoggerService {
  readonly lines: string[] = [];
  log(): void {}
  error(): void {}
  warn(message: unknown): void {
    this.lines.push(String(message));
  }
}

const never = (): Promise<void> => new Promise<void>(() => undefined);

describe('closeWithin', () => {
  it('closes gracefully, without forcing or warning, when the close settles in time', async () => {
    const logger = new Warnings();
    let forced = false;
    await closeWithin(
      {
        what: 'The event queue "q"',
        close: async () => undefined,
        force: async () => void (forced = true),
        abandoned: 'x',
      },
      1000,
      logger,
    );
    expect(forced).toBe(false);
    expect(logger.lines).toEqual([]);
  });

  it('forces, and says what it abandoned, when the close does not settle in time', async () => {
    const logger = new Warnings();
    let forced = false;
    await closeWithin(
      { what: 'The event queue "q"', close: never, force: async () => void (forced = true), abandoned: 'its commands' },
      10,
      logger,
    );
    expect(forced).toBe(true);
    expect(logger.lines).toEqual([
      'The event queue "q" did not close cleanly (The event queue "q" did not answer within 10 ms); dropped its ' +
        'connections, abandoning its commands.',
    ]);
  });

  it('forces when the close fails, and never rejects', async () => {
    const logger = new Warnings();
    let forced = false;
    const closing = closeWithin(
      {
        what: 'The event queue "q"',
        close: () => Promise.reject(new Error('refused')),
        force: async () => {
          forced = true;
          throw new Error('still refused');
        },
        abandoned: 'its commands',
      },
      10,
      logger,
    );
    await expect(closing).resolves.toBeUndefined();
    expect(forced).toBe(true);
    expect(logger.lines).toEqual([
      'The event queue "q" did not close cleanly (refused); dropped its connections, abandoning its commands.',
    ]);
  });
});
