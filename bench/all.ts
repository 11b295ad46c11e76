/**
 * `npm run bench`: every benchmark, one after the other, each in a process of its own (so one
 * benchmark's memory and warm caches never flatter or burden the next, and replay's peak RSS is
 * its own), then the results file as Markdown. Exits non-zero when any benchmark failed.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { rm } from 'node:fs/promises';
import { readBenchConfig } from './support/bench-config.js';
import { readResultsFile, resultsFilePath } from './support/bench-results.js';
import { resultsMarkdown } from './support/results-table.js';

const BENCHMARKS = [
  'raw',
  'naive',
  'throughput',
  'latency',
  'replay',
  'query',
  'scale',
  'versions',
  'ordered',
  'observability',
];

const args = process.argv.slice(2);
const config = readBenchConfig(args);
let current: ReturnType<typeof spawn> | undefined;
// A signal reaches the running benchmark (which cleans up and exits); then this runner stops.
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    interrupted = true;
    current?.kill(signal);
  });
}

// The file describes one run: this one.
await rm(resultsFilePath(), { force: true });
const started = Date.now();
const failed: string[] = [];
for (const name of BENCHMARKS) {
  if (interrupted) break;
  current = spawn(process.execPath, [new URL(`./${name}.js`, import.meta.url).pathname, ...args], {
    stdio: 'inherit',
  });
  const [code] = (await once(current, 'exit')) as [number | null];
  current = undefined;
  if (code !== 0) failed.push(name);
}

const results = await readResultsFile();
if (results) console.log(`\n${resultsMarkdown(results)}\n`);
console.log(
  `${config.size} size, ${Math.round((Date.now() - started) / 1000)} s; results in ${resultsFilePath()}` +
    (failed.length > 0 ? `; FAILED: ${failed.join(', ')}` : ''),
);
process.exit(failed.length > 0 || interrupted ? 1 : 0);
