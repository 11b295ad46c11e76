/**
 * The fault suite's last line of defence: a plain Node process (no TypeScript loader, starts in
 * milliseconds) that the test process tells, over its stdin, which server processes it runs
 * (`+<pid> <signal>`, `-<pid>` once it has stopped them) and which temp dirs it made (`+dir <path>`).
 * If the test process dies without cleaning up (killed by a CI timeout), the pipe closes and the
 * reaper signals every server still listed, waits for them (5 s at most) and removes the dirs, so
 * nothing of the suite outlives it. Worker and publisher children watch their own stdin.
 */
import { rmSync } from 'node:fs';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';

const servers = new Map();
const dirs = new Set();
let pending = '';

process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  pending += chunk;
  const lines = pending.split('\n');
  pending = lines.pop();
  for (const line of lines) {
    const [entry, argument] = line.split(' ');
    if (entry === '+dir') dirs.add(argument);
    else if (entry === '-dir') dirs.delete(argument);
    else if (entry.startsWith('+')) servers.set(Number(entry.slice(1)), argument || 'SIGKILL');
    else if (entry.startsWith('-')) servers.delete(Number(entry.slice(1)));
  }
});
process.stdin.on('end', () => void reap());

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function reap() {
  for (const [pid, signal] of servers) {
    try {
      process.kill(pid, signal);
    } catch {
      // Gone already.
    }
  }
  const deadline = Date.now() + 5_000;
  while ([...servers.keys()].some(alive) && Date.now() < deadline) await sleep(50);
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}
