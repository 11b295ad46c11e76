/**
 * Debian's `chromium`, headless, as a user's browser would load a page: scripts run, `fetch` calls
 * go to the app, and the DOM is read once the page has settled.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import puppeteer, { type Browser } from 'puppeteer-core';

const run = promisify(execFile);

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Why the browser checks cannot run here, or `undefined` when they can. */
export function chromiumUnavailable(): string | undefined {
  return existsSync(CHROMIUM)
    ? undefined
    : `chromium is not installed at ${CHROMIUM} (Debian: apt-get install --no-install-recommends chromium)`;
}

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--window-size=1400,1000',
];

/**
 * Loads `url` in a fresh profile and returns the DOM (or writes a PNG to `screenshot`). Virtual time
 * lets timers and the page's polling run for `settleMs` of page time, waiting for each request.
 */
export async function loadPage(url: string, options: { settleMs?: number; screenshot?: string } = {}): Promise<string> {
  const profile = await mkdtemp(join(tmpdir(), 'chromium-profile-'));
  try {
    const output = options.screenshot ? [`--screenshot=${options.screenshot}`] : ['--dump-dom'];
    const { stdout } = await run(
      CHROMIUM,
      [...FLAGS, `--user-data-dir=${profile}`, `--virtual-time-budget=${options.settleMs ?? 3000}`, ...output, url],
      { timeout: 60_000, maxBuffer: 32 * 1024 * 1024 },
    );
    return stdout;
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
}

/**
 * The same chromium driven over the DevTools protocol (puppeteer-core, which downloads no browser of
 * its own), for what a DOM dump cannot show: clicks, typing, and the layout at a given width.
 */
export async function launchBrowser(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS.filter((flag) => flag !== '--headless'),
  });
}
