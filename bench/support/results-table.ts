/** The results file as Markdown: the headline figures against their targets, then every figure. */
import { HEADLINE_NAMES } from './bench-results.js';
import type { HeadlineName, ResultsFile } from './bench-results.js';

const TARGETS: Record<HeadlineName, string> = {
  publishAll_vs_naive: '≥ 5×',
  publish100_vs_naive: '≥ 4×',
  publish1_vs_naive1: '≥ 1×',
  postgres_backend_publishAll_vs_naive: '≥ 1×',
  latency_p99_ms_at_2000: '≤ 15 ms, and ≤ 3× raw BullMQ',
  latency_p99_ms_at_500: '≤ 10 ms',
  replay_events_per_s: '≥ 150,000/s (at 1M)',
  replay_peak_rss_mb: '≤ 250 MB (at 1M)',
  workflow_query_p99_ms: '≤ 10 ms (at 1M rows)',
};

export function resultsMarkdown(file: ResultsFile): string {
  const { machine } = file;
  const lines = [
    `Size: ${file.size}; ${file.updatedAt}. Machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGb} GB, ` +
      `Node ${machine.node}, PostgreSQL ${machine.postgres ?? '?'}, Redis ${machine.redis ?? '?'}.`,
    '',
    '| headline | value | target |',
    '|---|---:|---|',
    ...HEADLINE_NAMES.map((name) => `| \`${name}\` | ${format(file[name])} | ${TARGETS[name]} |`),
    '',
    '| benchmark | figure | value | unit | what |',
    '|---|---|---:|---|---|',
    ...file.results.map(
      (result) =>
        `| ${result.benchmark} | \`${result.name}\` | ${format(result.value)} | ${result.unit} | ${result.description ?? ''} |`,
    ),
  ];
  return lines.join('\n');
}

function format(value: unknown): string {
  return typeof value === 'number' ? value.toLocaleString('en-US', { maximumFractionDigits: 3 }) : '—';
}
