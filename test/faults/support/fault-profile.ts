/**
 * How hard the scenarios push. The short profile (default, CI) keeps the whole suite within a few
 * minutes on a 2-core machine; `FAULTS_PROFILE=full` runs longer streams and more faults.
 */
export interface FaultProfile {
  name: 'short' | 'full';
  /** Events each publisher child gets acknowledged. */
  events: number;
  /** Worker SIGKILLs in the storm. */
  kills: number;
  /** Rounds of rolling SIGTERMs over every worker. */
  rollingRounds: number;
  /** Outage repetitions (Redis kills, PostgreSQL restarts). */
  outages: number;
  /** Bound for everything acknowledged to settle once the last fault ended. */
  settleBoundMs: number;
  /** Bound for a publisher child to get through its whole stream. */
  streamBoundMs: number;
}

const SHORT: FaultProfile = {
  name: 'short',
  events: 200,
  kills: 4,
  rollingRounds: 1,
  outages: 1,
  settleBoundMs: 45_000,
  streamBoundMs: 120_000,
};
const FULL: FaultProfile = {
  name: 'full',
  events: 3_000,
  kills: 20,
  rollingRounds: 3,
  outages: 3,
  settleBoundMs: 120_000,
  streamBoundMs: 600_000,
};

export const faultProfile: FaultProfile = process.env.FAULTS_PROFILE === 'full' ? FULL : SHORT;
