/** Waiting on the scenario's progress, read from the oracle files: faults land mid-stream, not at guessed times. */
import { waitFor } from '../../support/wait-for.js';
import { readAcks, readCalls, type OracleFiles } from './oracle-files.js';

/** Waits until at least `count` events were acknowledged. */
export async function waitForAcks(files: OracleFiles, count: number, timeoutMs = 60_000): Promise<void> {
  await waitFor(() => readAcks(files).size >= count, {
    timeoutMs,
    intervalMs: 100,
    message: `${count} acknowledged events`,
  });
}

/** Waits until the process `pid` has made at least `count` handler calls. */
export async function waitForCallsBy(
  files: OracleFiles,
  pid: number,
  count: number,
  timeoutMs = 60_000,
): Promise<void> {
  await waitFor(() => readCalls(files).filter((call) => call.pid === pid).length >= count, {
    timeoutMs,
    intervalMs: 100,
    message: `${count} handler calls by process ${pid}`,
  });
}
