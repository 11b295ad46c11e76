/** What the app and its embedded PostgreSQL supervisor say to each other over the IPC channel. */

/** Passed to the supervisor as its first argument (JSON). */
export interface SupervisorOptions {
  dataDir: string;
  /** 0 picks a free port. */
  port: number;
  database: string;
  /** PostgreSQL's own log output goes here, not to the app's console. */
  logFile: string;
}

/** Supervisor → app, once: the server answers, or it could not be started. The app sends `'stop'`. */
export type SupervisorMessage =
  { type: 'ready'; url: string; port: number; initialised: boolean } | { type: 'failed'; message: string };
