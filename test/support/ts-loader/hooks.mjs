/**
 * Node ESM loader hooks (registered by register.mjs) mirroring what jest.config.js does for tests:
 * - resolve: adds the `event-bus-source` export condition, so `@app/event-bus` resolves to its
 *   TypeScript sources, and maps a relative `./x.js` to `./x.ts` when only the `.ts` file exists;
 * - load: compiles `.ts` with `@swc/core` (legacy decorators and decorator metadata, which Nest's
 *   and TypeORM's decorators need) into an ES module. No type checking: `npm run typecheck` does that.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath, URL } from 'node:url';
import swc from '@swc/core';
import { SWC_OPTIONS as SHARED_SWC_OPTIONS } from './swc-options.mjs';

const SWC_OPTIONS = { ...SHARED_SWC_OPTIONS, sourceMaps: 'inline' };
/** The library's own export condition (libs/event-bus/package.json), named so no other tool uses it. */
const SOURCE_CONDITION = 'event-bus-source';

export async function resolve(specifier, context, nextResolve) {
  const conditions = context.conditions.includes(SOURCE_CONDITION)
    ? context.conditions
    : [SOURCE_CONDITION, ...context.conditions];
  const next = { ...context, conditions };
  const relative = specifier.startsWith('./') || specifier.startsWith('../');
  if (relative && specifier.endsWith('.js') && context.parentURL?.startsWith('file:')) {
    const asJs = new URL(specifier, context.parentURL);
    const asTs = new URL(`${specifier.slice(0, -'.js'.length)}.ts`, context.parentURL);
    if (!existsSync(asJs) && existsSync(asTs)) return nextResolve(asTs.href, next);
  }
  return nextResolve(specifier, next);
}

export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return nextLoad(url, context);
  const filename = fileURLToPath(url);
  const source = await readFile(filename, 'utf8');
  const { code } = swc.transformSync(source, { ...SWC_OPTIONS, filename });
  return { format: 'module', source: code, shortCircuit: true };
}
