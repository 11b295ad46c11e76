// The events page: plain JavaScript against the app's HTTP API, refreshed once a second.
/* global document, window, fetch, FormData, URLSearchParams, setTimeout */
'use strict';

const $ = (selector) => document.querySelector(selector);
const params = new URLSearchParams(window.location.search);
let selected = params.get('workflow');

// The failed deliveries: a search, and keyset paging (each page starts after the previous page's last item).
const FAILED_PAGE_SIZE = Number(params.get('failedPageSize')) || 10;
const failed = { search: {}, starts: [undefined], last: undefined, more: false };

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new Error((data && [].concat(data.message).join('; ')) || response.statusText);
  return data;
}

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function chip(status) {
  return element('span', status, `chip ${status}`);
}

function say(text, isError) {
  const message = $('#message');
  message.textContent = text;
  message.className = isError ? 'failure' : 'muted';
}

function select(workflowId) {
  selected = workflowId;
  window.history.replaceState(null, '', `/?workflow=${workflowId}`);
  refresh();
}

async function renderRuns() {
  const runs = await api('GET', '/workflows?limit=30');
  const list = $('#runs');
  list.replaceChildren();
  if (runs.length === 0) list.append(element('li', 'No runs yet.', 'muted'));
  for (const run of runs) {
    const item = element('li');
    const label = element('span');
    label.append(element('strong', run.name || 'workflow'), element('br'), element('small', run.workflowId));
    item.append(label, chip(run.status));
    if (run.workflowId === selected) item.className = 'selected';
    item.addEventListener('click', () => select(run.workflowId));
    list.append(item);
  }
}

function details(event) {
  const cell = element('td', undefined, 'details');
  const payload = event.payload || {};
  const parts = [];
  if (payload.node) parts.push(`node ${payload.node.id} (${payload.node.type})`);
  if (payload.error) parts.push(payload.error);
  if (payload.final) parts.push('final try');
  if (payload.output) parts.push(`output ${JSON.stringify(payload.output)}`);
  if (event.type === 'workflow.started') parts.push(`${payload.name}: ${payload.nodes.map((n) => n.id).join(' → ')}`);
  cell.append(element('div', parts.join(' · ')));
  for (const failure of event.failures) {
    cell.append(
      element('div', `✗ ${failure.handler} failed after ${failure.attempts} attempts: ${failure.lastError}`, 'failure'),
    );
  }
  return cell;
}

async function renderRun() {
  if (!selected) return;
  const view = await api('GET', `/workflows/${selected}/events`);
  const run = view.run;
  $('#run-title').textContent = run ? `${run.name} — ${view.workflowId}` : view.workflowId;
  $('#run-status').replaceChildren(run ? chip(run.status) : '');
  $('#run-summary').textContent = run
    ? `${run.completedNodes} of ${run.nodeCount} nodes completed` +
      (run.currentNode ? ` · current node: ${run.currentNode}` : '') +
      (run.error ? ` · last error: ${run.error}` : '')
    : 'No read-model row yet (replay rebuilds it).';
  const rows = view.events.map((event) => {
    const row = element('tr');
    row.dataset.type = event.type;
    row.dataset.status = event.status;
    const status = element('td');
    status.append(chip(event.status));
    row.append(
      element('td', String(event.sequenceNumber)),
      element('td', event.version === null ? '' : String(event.version), 'version'),
      element('td', event.type),
      status,
      element('td', event.attempts === undefined ? '' : String(event.attempts)),
      element('td', new Date(event.timestamp).toLocaleTimeString(), 'time'),
      details(event),
    );
    return row;
  });
  $('#events tbody').replaceChildren(...rows);
  $('#events').hidden = false;
  $('#replay').disabled = false;
  $('#retry-failed').disabled = !view.events.some((event) => event.status === 'failed');
}

function cursorOf(item) {
  return JSON.stringify({ failedAt: item.failedAt, eventId: item.eventId, handler: item.handler });
}

async function renderFailed() {
  const query = new URLSearchParams({ ...failed.search, limit: String(FAILED_PAGE_SIZE + 1) });
  const start = failed.starts[failed.starts.length - 1];
  if (start) query.set('after', start);
  const items = await api('GET', `/events/failed?${query}`);
  // One more than a page was asked for: whether a next page exists.
  failed.more = items.length > FAILED_PAGE_SIZE;
  const page = items.slice(0, FAILED_PAGE_SIZE);
  failed.last = page.length > 0 ? cursorOf(page[page.length - 1]) : undefined;
  const rows = page.map((item) => {
    const row = element('tr');
    row.dataset.eventId = item.eventId;
    row.dataset.handler = item.handler;
    const workflow = element('td', undefined, 'id');
    if (item.workflowId) {
      const link = element('a', item.workflowId);
      link.href = `/?workflow=${encodeURIComponent(item.workflowId)}`;
      workflow.append(link);
    }
    row.append(
      element('td', new Date(item.failedAt).toLocaleString(), 'time'),
      element('td', item.handler),
      element('td', item.eventType || ''),
      workflow,
      element('td', String(item.attempts)),
      element('td', item.lastError, 'details failure'),
    );
    return row;
  });
  if (rows.length === 0) {
    const empty = element('td', 'No failed deliveries match.', 'muted');
    empty.colSpan = 6;
    const row = element('tr');
    row.append(empty);
    rows.push(row);
  }
  $('#failed tbody').replaceChildren(...rows);
  $('#failed-page').textContent = `page ${failed.starts.length}`;
  $('#failed-first').disabled = failed.starts.length === 1;
  $('#failed-prev').disabled = failed.starts.length === 1;
  $('#failed-next').disabled = !failed.more;
}

async function renderOrdered() {
  const handlers = await api('GET', '/events/ordered-handlers');
  $('#ordered-empty').hidden = handlers.length > 0;
  $('#ordered').hidden = handlers.length === 0;
  $('#ordered tbody').replaceChildren(
    ...handlers.map((state) => {
      const row = element('tr');
      row.append(
        element('td', state.handler),
        element('td', String(state.lag)),
        element('td', String(state.parked)),
        element('td', state.position ? `#${state.position.sequenceNumber}` : '—'),
        element('td', state.owners.join(', ')),
      );
      return row;
    }),
  );
}

function pageFailed(move) {
  if (move === 'first') failed.starts = [undefined];
  if (move === 'prev' && failed.starts.length > 1) failed.starts.pop();
  if (move === 'next' && failed.more) failed.starts.push(failed.last);
  renderFailed().catch((error) => say(error.message, true));
}

$('#failed-first').addEventListener('click', () => pageFailed('first'));
$('#failed-prev').addEventListener('click', () => pageFailed('prev'));
$('#failed-next').addEventListener('click', () => pageFailed('next'));

$('#failed-search').addEventListener('submit', (submitted) => {
  submitted.preventDefault();
  const form = new FormData(submitted.target);
  failed.search = Object.fromEntries([...form.entries()].filter(([, value]) => String(value).trim() !== ''));
  pageFailed('first');
});

$('#failed-clear').addEventListener('click', () => {
  $('#failed-search').reset();
  failed.search = {};
  pageFailed('first');
});

async function refresh() {
  try {
    await Promise.all([renderRuns(), renderRun(), renderFailed(), renderOrdered()]);
  } catch (error) {
    say(error.message, true);
  }
}

$('#start-demo').addEventListener('click', async () => {
  try {
    const { workflowId } = await api('POST', '/workflows');
    say(`Started ${workflowId}`);
    select(workflowId);
  } catch (error) {
    say(error.message, true);
  }
});

$('#retry-failed').addEventListener('click', async () => {
  try {
    const view = await api('GET', `/workflows/${selected}/events`);
    let retried = 0;
    for (const event of view.events.filter((e) => e.status === 'failed')) {
      retried += (await api('POST', '/events/retry-failed', { eventId: event.id })).retried;
    }
    say(`Re-drove ${retried} failed deliveries`);
    refresh();
  } catch (error) {
    say(error.message, true);
  }
});

$('#replay').addEventListener('click', async () => {
  try {
    const result = await api('POST', `/workflows/${selected}/replay`);
    say(`Rebuilt the run from its ${result.events} events`);
    refresh();
  } catch (error) {
    say(error.message, true);
  }
});

$('#rebuild-projection').addEventListener('click', async () => {
  try {
    const { handler } = await api('POST', '/workflows/projection/rebuild');
    say(`Rebuilding the read model: ${handler} reads the log again from its beginning`);
    refresh();
  } catch (error) {
    say(error.message, true);
  }
});

(function poll() {
  refresh().finally(() => setTimeout(poll, 1000));
})();
