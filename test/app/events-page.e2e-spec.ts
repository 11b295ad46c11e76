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
import { chromiumUnavailable, loadPage } from './headless-browser.js';

describeIfRunnable('test/app/events-page.e2e-spec.ts (headless browser)', chromiumUnavailable())(
  'events page in a headless browser',
  () => {
    let t: TestApp;
    let base: string;

    beforeAll(async () => {
      t = await bootTestApp('app-page', transportBackends()[0]);
      await t.app.listen(0, '127.0.0.1');
      base = `http://127.0.0.1:${((t.app.getHttpServer() as Server).address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      await t?.close();
    });

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

    it('shows the event queue on the queue dashboard', async () => {
      const dom = await loadPage(`${base}/queues`, { settleMs: 5000 });
      expect(dom).toContain('Workflow events');
      expect(dom).toContain(t.config.queueName);
    });
  },
);
