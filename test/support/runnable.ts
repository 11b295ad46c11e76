import { describe } from '@jest/globals';
import { reportNotRunnable } from './environment.js';

/**
 * `describe` when the suite can run here (`reason` undefined), otherwise `describe.skip` after
 * reporting why, so the end-of-run banner lists it:
 *
 *   describeIfRunnable('page check', chromiumPath ? undefined : 'chromium is not installed')('…', () => { … });
 */
export function describeIfRunnable(suite: string, reason: string | undefined): typeof describe {
  if (reason === undefined) return describe;
  reportNotRunnable(suite, reason);
  return describe.skip as typeof describe;
}
