/// <reference lib="dom" />
/**
 * The pages a person watches, in a real headless browser: the events view of a workflow that ran
 * into its failing node, and the queue dashboard. Reports itself as not runnable (and is listed in
 * the end-of-run banner) where chromium is not installed.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { transportBackends } from '../support/bus.js';
import { waitFor } from '../support/database.js';
import { describeIfRunnable } from '../support/runnable.js';
import { bootTestApp, type TestApp } from './app-harness.js';
import type { Browser, Page } from 'puppeteer-core';
import { chromiumUnavailable, launchBrowser, loadPage } from './headless-browser.js';

describeIfRunnable('test/app/events-page.e2e-spec.ts (headless browser)', chromiumUnavailable())(
  'events page in a headless browser',
  () => {
    let t: TestApp;
    let base: string;
    let browser: Browser | undefined;

    beforeAll(async () => {
      t = await bootTestApp('app-page', transportBackends()[0]);
      await t.app.listen(0, '127.0.0.1');
      base = `http://127.0.0.1:${((t.app.getHttpServer() as Server).address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      await browser?.close();
      await t?.close();
    });

    /** A tab of one browser shared by the interactive cases. */
    const openPage = async (path: string, width = 1400): Promise<Page> => {
      browser ??= await launchBrowser();
      const page = await browser.newPage();
      await page.setViewport({ width, height: 900 });
      await page.goto(`${base}${path}`);
      return page;
    };

    /** The failed-deliveries rows shown now, as `eventId/handler`. */
    const failedRows = (page: Page): Promise<string[]> =>
      page.$$eval('#failed tbody tr[data-event-id]', (rows) =>
        rows.map((row) => `${(row as HTMLElement).dataset.eventId}/${(row as HTMLElement).dataset.handler}`),
      );

    /** Waits until the failed-deliveries table shows exactly `expected` (the page renders asynchronously). */
    const waitForFailedRows = async (page: Page, expected: string[]): Promise<void> => {
      await page
        .waitForFunction(
          (want: string) =>
            JSON.stringify(
              [...document.querySelectorAll('#failed tbody tr[data-event-id]')].map(
                (row) => `${(row as HTMLElement).dataset.eventId}/${(row as HTMLElement).dataset.handler}`,
              ),
            ) === want,
          { timeout: 15_000 },
          JSON.stringify(expected),
        )
        .catch(async (error: unknown) => {
          throw new Error(
            `failed rows ${JSON.stringify(await failedRows(page))}, expected ${JSON.stringify(expected)}`,
            {
              cause: error,
            },
          );
        });
    };

    const failedDemoWorkflow = async (): Promise<string> => {
      const { workflowId } = await api<{ workflowId: string }>('POST', '/workflows');
      await waitFor(
        async () =>
          (await api<{ status: string }>('GET', `/workflows/${workflowId}`).catch(() => null))?.status === 'failed',
        { timeoutMs: 30_000, message: `the demo workflow ${workflowId} to fail` },
      );
      return workflowId;
    };

    const api = async <T>(method: string, path: string): Promise<T> => {
      const response = await fetch(`${base}${path}`, { method });
      expect(response.ok).toBe(true);
      return (await response.json()) as T;
    };

    it('shows a failed workflow: its events in order, their statuses and the failure record', async () => {
      const { workflowId } = await api<{ workflowId: string }>('POST', '/workflows');
      await waitFor(
        async () =>
          (await api<{ status: string }>('GET', `/workflows/${workflowId}`).catch(() => null))?.status === 'failed',
        { timeoutMs: 20_000, message: 'the demo workflow to fail' },
      );

      const dom = await loadPage(`${base}/?workflow=${workflowId}`);
      const rows = [...dom.matchAll(/<tr data-type="([^"]+)" data-status="([^"]+)">/g)].map(([, type, status]) => [
        type,
        status,
      ]);
      expect(rows).toEqual([
        ['workflow.started', 'processed'],
        ['workflow.node.triggered', 'processed'],
        ['workflow.node.completed', 'processed'],
        ['workflow.node.triggered', 'processed'],
        ['workflow.node.completed', 'processed'],
        ['workflow.node.triggered', 'failed'],
        ['workflow.node.failed', 'processed'],
        ['workflow.node.failed', 'processed'],
        ['workflow.node.failed', 'processed'],
        ['workflow.failed', 'processed'],
      ]);
      // Each event shows its version: its position in the workflow's stream.
      const versions = [...dom.matchAll(/<td class="version">(\d*)<\/td>/g)].map(([, version]) => Number(version));
      expect(versions).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(dom).toContain('✗ NodeRunner.run failed after 3 attempts: Error: Node reserve-stock failed on purpose');
      expect(dom).toContain('2 of 4 nodes completed · current node: reserve-stock');
      // The run is listed, selected, and its failed events can be re-driven from the page.
      expect(dom).toMatch(new RegExp(`<li class="selected">.*${workflowId}`));
      expect(dom).toMatch(/<button id="retry-failed" type="button">/);
    });

    it('pages through every failed delivery with a keyset cursor, and searches them by handler, event type and workflow', async () => {
      const workflows = await Promise.all([failedDemoWorkflow(), failedDemoWorkflow(), failedDemoWorkflow()]);
      type Failure = { eventId: string; handler: string; eventType: string; workflowId: string };
      const all = await api<Failure[]>('GET', '/events/failed');
      const key = (failure: Failure): string => `${failure.eventId}/${failure.handler}`;
      expect(all.length).toBeGreaterThanOrEqual(3);

      const page = await openPage('/?failedPageSize=2');
      try {
        const seen: string[] = [];
        for (let start = 0; start < all.length; start += 2) {
          const expected = all.slice(start, start + 2).map(key);
          await waitForFailedRows(page, expected);
          seen.push(...expected);
          const last = start + 2 >= all.length;
          expect(await page.$eval('#failed-next', (button) => (button as HTMLButtonElement).disabled)).toBe(last);
          if (!last) await page.click('#failed-next');
        }
        expect(seen).toEqual(all.map(key));
        await page.click('#failed-prev');
        const lastStart = Math.floor((all.length - 1) / 2) * 2;
        await waitForFailedRows(page, all.slice(lastStart - 2, lastStart).map(key));
        await page.click('#failed-first');
        await waitForFailedRows(page, all.slice(0, 2).map(key));

        // By workflow: that run's failure alone.
        const mine = all.filter((failure) => failure.workflowId === workflows[1]);
        expect(mine).toHaveLength(1);
        await page.type('#failed-search input[name=workflowId]', workflows[1]);
        await page.click('#failed-search button[type=submit]');
        await waitForFailedRows(page, mine.map(key));
        expect(await page.$eval('#failed tbody', (body) => body.textContent)).toContain('workflow.node.triggered');

        // By handler and event type (and a search that matches nothing says so).
        await page.click('#failed-clear');
        await page.type('#failed-search input[name=handler]', 'NodeRunner.run');
        await page.type('#failed-search input[name=eventType]', 'workflow.node.triggered');
        await page.click('#failed-search button[type=submit]');
        const byHandlerAndType = all.filter(
          (failure) => failure.handler === 'NodeRunner.run' && failure.eventType === 'workflow.node.triggered',
        );
        await waitForFailedRows(page, byHandlerAndType.slice(0, 2).map(key));
        await page.click('#failed-clear');
        await page.type('#failed-search input[name=handler]', 'Nobody.handles');
        await page.click('#failed-search button[type=submit]');
        await page.waitForFunction(
          () => document.querySelector('#failed tbody')?.textContent === 'No failed deliveries match.',
          { timeout: 15_000 },
        );

        // The ordered handlers' section: the read model's projection, with its lag in events.
        await page.waitForFunction(
          () => document.querySelector('#ordered tbody tr td')?.textContent === 'WorkflowRunProjection.apply',
          { timeout: 15_000 },
        );
        const lag = await page.$eval('#ordered tbody tr td:nth-child(2)', (cell) => cell.textContent);
        expect(Number(lag)).toBeGreaterThanOrEqual(0);
        expect(await page.$eval('#ordered-empty', (note) => (note as HTMLElement).hidden)).toBe(true);
      } finally {
        await page.close();
      }
    });

    it('fits a 375 px wide screen: the page does not scroll sideways, wide tables scroll in their box', async () => {
      const workflowId = await failedDemoWorkflow();
      const page = await openPage(`/?workflow=${workflowId}`, 375);
      try {
        await page.waitForSelector('#events tbody tr[data-type]', { timeout: 15_000 });
        await page.waitForSelector('#failed tbody tr[data-event-id]', { timeout: 15_000 });
        const layout = await page.evaluate(() => ({
          scrollWidth: document.documentElement.scrollWidth,
          innerWidth: window.innerWidth,
          tablesScrolling: [...document.querySelectorAll('.table-scroll')].filter(
            (box) => box.scrollWidth > box.clientWidth,
          ).length,
        }));
        expect(layout.innerWidth).toBe(375);
        expect(layout.scrollWidth).toBeLessThanOrEqual(layout.innerWidth);
        // The events and failures tables are wider than a phone: they scroll inside their container.
        expect(layout.tablesScrolling).toBeGreaterThanOrEqual(1);
      } finally {
        await page.close();
      }
    });

    it('shows the event queue on the queue dashboard', async () => {
      const dom = await loadPage(`${base}/queues`, { settleMs: 5000 });
      expect(dom).toContain('Workflow events');
      expect(dom).toContain(t.config.queueName);
    });
  },
);
