/**
 * Every figure of a run: printed as a console table and merged into `bench/results/latest.json`
 * (name, value, unit, size), with the headline figures the README quotes under fixed names.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchSize } from './bench-config.js';
import type { LatencySummary } from './bench-stats.js';

export interface BenchResult {
  benchmark: string;
  name: string;
  value: number;
  unit: string;
  size: BenchSize;
  measuredAt: string;
  /** What the figure is, for the table and the file. */
  description?: string;
}

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryGb: number;
  platform: string;
  node: string;
  postgres?: string;
  redis?: string;
}

/** The figures the README and the targets refer to, by their fixed names. */
export const HEADLINE_NAMES = [
  'publishAll_vs_naive',
  'publish100_vs_naive',
  'publish1_vs_naive1',
  'postgres_backend_publishAll_vs_naive',
  'latency_p99_ms_at_2000',
  'latency_p99_ms_at_500',
  'replay_events_per_s',
  'replay_peak_rss_mb',
  'workflow_query_p99_ms',
] as const;
export type HeadlineName = (typeof HEADLINE_NAMES)[number];

export type ResultsFile = { size: BenchSize; updatedAt: string; machine: MachineInfo } & Record<
  HeadlineName,
  number | null
> & { results: BenchResult[] };

/** bench/results/latest.json, found from the compiled file (dist/bench/support) or the source. */
export function resultsFilePath(): string {
  if (process.env.BENCH_RESULTS_FILE) return process.env.BENCH_RESULTS_FILE;
  const here = path.dirname(fileURLToPath(import.meta.url));
  const root = here.includes(`${path.sep}dist${path.sep}`)
    ? path.resolve(here, '../../..')
    : path.resolve(here, '../..');
  return path.join(root, 'bench', 'results', 'latest.json');
}

export class BenchResults {
  private readonly results: BenchResult[] = [];

  constructor(
    private readonly benchmark: string,
    private readonly size: BenchSize,
  ) {}

  /** Records one figure; rounds to a precision that means something on a noisy machine. */
  record(name: string, value: number, unit: string, description?: string): number {
    const rounded = roundSignificant(value);
    this.results.push({
      benchmark: this.benchmark,
      name,
      value: rounded,
      unit,
      size: this.size,
      measuredAt: new Date().toISOString(),
      description,
    });
    return rounded;
  }

  /** `numerator / denominator` as a figure named `name` (unit ×), printed next to its parts. */
  ratio(name: string, numerator: number, denominator: number, description?: string): number {
    return this.record(name, denominator > 0 ? numerator / denominator : Number.NaN, '×', description);
  }

  /** p50, p95, p99 and max of a latency distribution, in ms, as `name_p50_ms<suffix>` … */
  latency(name: string, summary: LatencySummary, description?: string, suffix = ''): void {
    this.record(`${name}_p50_ms${suffix}`, summary.p50, 'ms', description);
    this.record(`${name}_p95_ms${suffix}`, summary.p95, 'ms');
    this.record(`${name}_p99_ms${suffix}`, summary.p99, 'ms');
    this.record(`${name}_max_ms${suffix}`, summary.max, 'ms');
  }

  get all(): readonly BenchResult[] {
    return this.results;
  }

  print(): void {
    console.log(`\n${this.benchmark} (${this.size} size)`);
    console.table(
      this.results.map((result) => ({
        name: result.name,
        value: result.value,
        unit: result.unit,
        what: result.description ?? '',
      })),
    );
  }

  /**
   * Merges this run's figures into the results file: a figure replaces the one of the same
   * benchmark and name (a baseline such as `raw_bullmq_jobs_per_s` is measured again, in the same
   * run, by each benchmark that divides by it); a file of the other size is started afresh, so the
   * file never mixes sizes.
   */
  async save(machine: MachineInfo, file = resultsFilePath()): Promise<void> {
    const previous = await readResultsFile(file);
    const kept = previous?.size === this.size ? previous.results : [];
    const key = (result: BenchResult): string => `${result.benchmark}/${result.name}`;
    const replaced = new Set(this.results.map(key));
    const results = [...kept.filter((result) => !replaced.has(key(result))), ...this.results];
    // Headline names are recorded by one benchmark each.
    const byName = new Map(results.map((result) => [result.name, result.value]));
    const headline = Object.fromEntries(HEADLINE_NAMES.map((name) => [name, byName.get(name) ?? null])) as Record<
      HeadlineName,
      number | null
    >;
    const content: ResultsFile = {
      size: this.size,
      updatedAt: new Date().toISOString(),
      machine,
      ...headline,
      results,
    };
    await mkdir(path.dirname(file), { recursive: true });
    // Written aside and renamed, so a reader never sees half a file.
    await writeFile(`${file}.tmp`, `${JSON.stringify(content, null, 2)}\n`);
    await rename(`${file}.tmp`, file);
  }
}

export async function readResultsFile(file = resultsFilePath()): Promise<ResultsFile | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as ResultsFile;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

export function localMachine(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    platform: `${os.platform()} ${os.release()}`,
    node: process.version,
  };
}

/** Three significant digits, at least the integer part: 12345.6 → 12346, 0.012345 → 0.0123. */
export function roundSignificant(value: number): number {
  if (!Number.isFinite(value) || value === 0) return value;
  const digits = Math.max(0, 2 - Math.floor(Math.log10(Math.abs(value))));
  return Number(value.toFixed(digits));
}
