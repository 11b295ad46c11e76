import { SWC_OPTIONS } from './test/support/ts-loader/swc-options.mjs';

// Jest runs in native ESM mode (Nest 12 is ESM-only); @swc/jest compiles TypeScript with
// decorator metadata so Nest's type-based injection works. Type checking is `npm run typecheck`.
const swc = ['@swc/jest', SWC_OPTIONS];

export const common = {
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  // Sources import siblings as `./x.js` (Node ESM); Jest resolves them back to the `.ts` file.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  // `event-bus-source` resolves `@app/event-bus` (libs/event-bus) to its TypeScript sources.
  testEnvironmentOptions: { customExportConditions: ['event-bus-source', 'node', 'node-addons'] },
  testEnvironment: 'node',
};

/** @type {import('jest').Config} */
export default {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/libs/**/*.spec.ts', '<rootDir>/apps/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/**/*.int-spec.ts', '<rootDir>/test/**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
    },
  ],
  testTimeout: 30000,
  // A run must end. Suites close what they open, also when a test fails; this is the backstop, so
  // that something a failed test left behind (a worker, a socket) cannot keep Jest alive once every
  // suite and the global teardown are done. `npm test -- --detectOpenHandles` shows what it was.
  forceExit: true,
};
