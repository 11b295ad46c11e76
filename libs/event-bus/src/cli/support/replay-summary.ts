import type { ReplayOptions } from '../../core/event-bus.js';
import type { CommonCliOptions } from './cli-session.js';

/** The options of `replay`, as parsed. */
export interface ReplayCliOptions extends CommonCliOptions {
  from: Date;
  to?: Date;
  type?: string[];
  workflow?: string;
  tenant?: string;
  handler?: string[];
  afterSequence?: number;
}

/** What `replay --json` prints. */
export interface ReplaySummary {
  /** Events the filter matched when the replay began (the progress bar's total). */
  total: number;
  read: number;
  events: number;
  handlerCalls: number;
  failed: number;
  lastSequence: number;
  stopped: boolean;
  /** When stopped: the same command from where it stopped. */
  resume?: string;
}

export function replayOptionsOf(options: ReplayCliOptions): ReplayOptions {
  const replay: ReplayOptions = {};
  if (options.to) replay.to = options.to;
  if (options.type) replay.types = options.type;
  if (options.workflow !== undefined) replay.workflowId = options.workflow;
  if (options.tenant !== undefined) replay.tenantId = options.tenant;
  if (options.handler) replay.handlers = options.handler;
  if (options.afterSequence !== undefined) replay.afterSequence = options.afterSequence;
  return replay;
}

/** The command line that goes on where a stopped replay ended (its filters, after its last event). */
export function resumeCommand(options: ReplayCliOptions, lastSequence: number): string {
  const parts = ['replay', '--from', options.from.toISOString()];
  if (options.to) parts.push('--to', options.to.toISOString());
  for (const type of options.type ?? []) parts.push('--type', type);
  if (options.workflow !== undefined) parts.push('--workflow', quote(options.workflow));
  if (options.tenant !== undefined) parts.push('--tenant', options.tenant);
  for (const handler of options.handler ?? []) parts.push('--handler', quote(handler));
  parts.push('--after-sequence', String(lastSequence));
  return parts.join(' ');
}

function quote(value: string): string {
  return /^[\w.:@/-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

export function describeReplay(summary: ReplaySummary): string {
  const done =
    `${summary.events} events delivered (${summary.handlerCalls} handler calls, ${summary.failed} failed), ` +
    `${summary.read} of ${summary.total} read, last sequence #${summary.lastSequence}`;
  if (summary.stopped) {
    return `Replay stopped after ${done}.\nTo resume: ${summary.resume}`;
  }
  return `Replay finished: ${done}.`;
}
