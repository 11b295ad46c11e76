/**
 * Lets a child Node process run the project's TypeScript sources, for tests that need a second
 * process (a worker to kill, another app instance):
 *
 *   node --import ./test/support/ts-loader/register.mjs test/fixtures/some-script.ts
 *
 * Node 20 cannot run `.ts` itself; the hooks in hooks.mjs compile it on the fly as Jest does.
 */
import { register } from 'node:module';

register('./hooks.mjs', import.meta.url);
