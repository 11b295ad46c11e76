import process from 'node:process';
import { common } from './jest.config.js';

// The fault suite (test/faults/, `npm run test:faults`): scenarios that kill and freeze servers and
// processes of their own. Not part of `npm test`. One file at a time: each starts its own PostgreSQL,
// Redis and child processes, and the faults' timings should not compete with each other on 2 cores.
/** @type {import('jest').Config} */
export default {
  ...common,
  displayName: 'faults',
  testMatch: ['<rootDir>/test/faults/**/*.fault-spec.ts'],
  maxWorkers: 1,
  // A scenario's own waits are bounded (support/fault-profile.ts); this only backs them up.
  testTimeout: process.env.FAULTS_PROFILE === 'full' ? 1_800_000 : 180_000,
};
