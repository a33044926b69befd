/**
 * The fleet page's script (pages/fleet-page.ts): reads /api/fleet with the form's filter and
 * the chosen sort, draws the table, and reads it again every 15 s until paused. The filter
 * and sort live in the URL (replaceState), so a view can be bookmarked.
 */
import { humanDuration } from '../pages/format.js';
import { el, type Child } from './dom.js';

const REFRESH_MS = 15_000;

/** One entry of /api/fleet (routes/fleet.ts). */
interface FleetRow {
  module: string;
  prober: string;
  target: string;
  auth: string | null;
  time: string;
  success: boolean;
  failureReason: string | null;
  reason: string | null;
  source: string;
  durationSeconds: number;
  tunnels: { up: number; down: number; standby: number; unknown: number } | null;
  users: number | null;
  certificateExpiryTimestamp: number | null;
  crlNextUpdateTimestamp: number | null;
  logId: number;
  logKept: boolean;
}

interface FleetAnswer {
  time: string;
  maxEntries: number;
  total: number;
  failing: number;
  matched: number;
  dropped: number;
  droppedIsLowerBound: boolean;
  modules: string[];
  sort: string;
  order: 'asc' | 'desc';
  entries: FleetRow[];
}

/** Columns: sort key (null: not sortable) and header. The keys are /api/fleet's ?sort= names. */
const COLUMNS: [string | null, string][] = [
  ['target', 'Target'],
  ['module', 'Module'],
  ['auth', 'Auth'],
  ['result', 'Result'],
  ['up', 'Tunnels up'],
  ['down', 'Tunnels down'],
  ['users', 'Users'],
  ['expiry', 'Nearest expiry'],
  ['time', 'Last probe'],
  ['duration', 'Duration'],
  ['source', 'Source'],
  [null, 'Links'],
];
/** Where a column reads best from its largest value (descending on first click). */
const DESC_FIRST = new Set(['down', 'up', 'users', 'time', 'duration']);

const byId = (id: string): HTMLElement | null => document.getElementById(id);
const plural = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

function ago(ms: number): string {
  return ms < 1000 ? 'just now' : `${humanDuration(ms / 1000)} ago`;
}

function expiryCell(r: FleetRow, nowSeconds: number): Child {
  const parts: [string, number][] = [];
  if (r.certificateExpiryTimestamp !== null) parts.push(['certificate', r.certificateExpiryTimestamp]);
  if (r.crlNextUpdateTimestamp !== null) parts.push(['CRL next update', r.crlNextUpdateTimestamp]);
  if (parts.length === 0) return null;
  parts.sort((a, b) => a[1] - b[1]);
  const [what, at] = parts[0] as [string, number];
  const left = at - nowSeconds;
  const when = left >= 0 ? `in ${humanDuration(left)}` : `${humanDuration(-left)} ago`;
  const iso = new Date(at * 1000).toISOString();
  return el('span', { class: left < 0 ? 'expired' : null }, [el('time', { datetime: iso, title: iso }, [when]), ' ', el('span', { class: 'detail' }, [what])]);
}

function resultCell(r: FleetRow): Child {
  if (r.success) return el('span', { class: 'badge badge-success' }, ['success']);
  return el('span', null, [
    el('span', { class: 'badge badge-failure' }, ['failure']),
    ' ',
    el('code', { class: 'reason' }, [r.failureReason ?? 'other']),
    r.reason ? ' ' : null,
    r.reason ? el('span', { class: 'detail block' }, [r.reason]) : null,
  ]);
}

function cells(r: FleetRow, answerMs: number): Child[] {
  const t = r.tunnels;
  const time = Date.parse(r.time);
  const history = `history?${new URLSearchParams({ target: r.target }).toString()}`;
  return [
    el('span', { class: 'target' }, [r.target]),
    r.module,
    r.auth,
    resultCell(r),
    t ? el('span', null, [String(t.up), t.standby ? el('span', { class: 'detail' }, [` + ${t.standby} standby`]) : null]) : null,
    t ? el('span', null, [String(t.down), t.unknown ? el('span', { class: 'detail' }, [` + ${t.unknown} unknown`]) : null]) : null,
    r.users === null ? null : String(r.users),
    expiryCell(r, answerMs / 1000),
    el('time', { datetime: r.time, title: r.time }, [ago(answerMs - time)]),
    `${r.durationSeconds.toFixed(3)} s`,
    r.source,
    el('span', { class: 'row-links' }, [
      el('a', { href: history, 'data-focus': `h:${history}` }, ['History']),
      r.logKept ? el('a', { href: `logs?id=${r.logId}`, 'data-focus': `l:${r.logId}` }, [`Log #${r.logId}`]) : el('span', { class: 'detail' }, ['log dropped']),
    ]),
  ];
}

function headerCell(key: string | null, label: string, sort: string, order: 'asc' | 'desc'): HTMLElement {
  if (key === null) return el('th', { scope: 'col', role: 'columnheader' }, [label]);
  const active = key === sort;
  const arrow = active ? (order === 'asc' ? '▲' : '▼') : '';
  return el('th', { scope: 'col', role: 'columnheader', 'aria-sort': active ? (order === 'asc' ? 'ascending' : 'descending') : 'none' }, [
    el('button', { type: 'button', class: 'sort', 'data-sort': key, 'data-focus': `s:${key}` }, [
      label,
      el('span', { class: 'arrow', 'aria-hidden': 'true' }, [arrow]),
    ]),
  ]);
}

function fleetTable(a: FleetAnswer): HTMLElement {
  const answerMs = Date.parse(a.time);
  const head = el(
    'tr',
    { role: 'row' },
    COLUMNS.map(([key, label]) => headerCell(key, label, a.sort, a.order)),
  );
  const body = a.entries.map((r) =>
    el(
      'tr',
      { role: 'row', class: r.success ? null : 'failing' },
      cells(r, answerMs).map((c, i) => el('td', { role: 'cell', 'data-label': COLUMNS[i]?.[1] }, [c])),
    ),
  );
  return el('div', { class: 'table-wrap' }, [
    el('table', { class: 'cards fleet', role: 'table', id: 'fleet' }, [
      el('caption', { class: 'sr-only' }, ['Targets probed in the last hour']),
      el('thead', { role: 'rowgroup' }, [head]),
      el('tbody', { role: 'rowgroup' }, body),
    ]),
  ]);
}

export function startFleet(): void {
  const form = byId('fleet-filter');
  const moduleSelect = byId('fleet-module');
  const targetInput = byId('fleet-target');
  const failingBox = byId('fleet-failing');
  const pauseButton = byId('fleet-pause');
  const refreshButton = byId('fleet-refresh');
  const updated = byId('fleet-updated');
  const droppedNote = byId('fleet-dropped');
  const count = byId('fleet-count');
  const status = byId('fleet-status');
  const tableBox = byId('fleet-table');
  if (
    !(form instanceof HTMLFormElement) ||
    !(moduleSelect instanceof HTMLSelectElement) ||
    !(targetInput instanceof HTMLInputElement) ||
    !(failingBox instanceof HTMLInputElement) ||
    !pauseButton ||
    !refreshButton ||
    !updated ||
    !droppedNote ||
    !count ||
    !status ||
    !tableBox
  ) {
    return;
  }
  const url = new URLSearchParams(location.search);
  let sort = url.get('sort') ?? 'result';
  let order: 'asc' | 'desc' = url.get('order') === 'desc' ? 'desc' : 'asc';
  let paused = false;
  let timer: number | undefined;
  let inflight: AbortController | null = null;

  const params = (): URLSearchParams => {
    const p = new URLSearchParams();
    if (moduleSelect.value) p.set('module', moduleSelect.value);
    const target = targetInput.value.trim();
    if (target) p.set('target', target);
    if (failingBox.checked) p.set('failing', 'true');
    if (sort !== 'result') p.set('sort', sort);
    if (order !== 'asc') p.set('order', order);
    return p;
  };

  const schedule = (): void => {
    window.clearTimeout(timer);
    // A hidden tab waits: it reads again when shown (visibilitychange below).
    if (!paused) timer = window.setTimeout(() => (document.hidden ? undefined : void load(false)), REFRESH_MS);
  };

  const addModules = (names: readonly string[]): void => {
    const have = new Set([...moduleSelect.options].map((o) => o.value));
    for (const n of names) if (!have.has(n)) moduleSelect.append(el('option', { value: n }, [n]));
  };

  const render = (a: FleetAnswer): void => {
    addModules(a.modules);
    // A refresh must not take the keyboard user's place: find what had focus in the new table.
    const focusKey = document.activeElement instanceof HTMLElement ? document.activeElement.dataset.focus : undefined;
    if (a.entries.length === 0) {
      const empty = a.total === 0 ? 'No target was probed in the last hour.' : 'No target matches the filter.';
      tableBox.replaceChildren(el('p', { class: 'empty', id: 'fleet-empty' }, [empty]));
    } else {
      tableBox.replaceChildren(fleetTable(a));
    }
    if (focusKey) tableBox.querySelector<HTMLElement>(`[data-focus="${CSS.escape(focusKey)}"]`)?.focus();
    const shown = a.entries.length < a.matched ? `Showing ${a.entries.length.toLocaleString('en-US')} of ` : '';
    count.textContent = `${shown}${plural(a.matched, 'entry', 'entries')}${a.matched === a.total ? '' : ` matching, of ${a.total.toLocaleString('en-US')}`}; ${a.failing.toLocaleString('en-US')} failing in all.`;
    if (a.dropped > 0) {
      droppedNote.hidden = false;
      droppedNote.textContent = `${a.droppedIsLowerBound ? 'At least ' : ''}${plural(a.dropped, 'older target')} dropped: only the ${a.maxEntries.toLocaleString('en-US')} most recently probed are kept (--fleet.max-targets).`;
    } else {
      droppedNote.hidden = true;
      droppedNote.textContent = '';
    }
    updated.textContent = `Updated ${new Date(a.time).toLocaleTimeString()}${paused ? ' (auto-refresh paused)' : ''}`;
  };

  /** `announce`: after a person's action, say the outcome to screen readers; a timed refresh stays quiet. */
  const load = async (announce: boolean): Promise<void> => {
    inflight?.abort();
    const ac = new AbortController();
    inflight = ac;
    window.clearTimeout(timer);
    const p = params();
    const q = p.toString();
    if (location.search !== (q ? `?${q}` : '')) history.replaceState(null, '', q ? `?${q}` : location.pathname);
    p.set('sort', sort);
    p.set('order', order);
    tableBox.setAttribute('aria-busy', 'true');
    try {
      const res = await fetch(`api/fleet?${p.toString()}`, { signal: ac.signal, headers: { Accept: 'application/json' } });
      const body = (await res.json().catch(() => null)) as (Partial<FleetAnswer> & { error?: string }) | null;
      if (ac !== inflight) return;
      if (!res.ok || !body || !Array.isArray(body.entries)) {
        status.textContent = `Not updated: ${body?.error || `the exporter answered HTTP ${res.status}`}`;
        updated.textContent = status.textContent;
      } else {
        render(body as FleetAnswer);
        if (announce) status.textContent = count.textContent ?? '';
      }
    } catch (err) {
      if (ac.signal.aborted) return;
      updated.textContent = `Not updated: the exporter did not answer (${err instanceof Error ? err.message : String(err)})`;
    } finally {
      if (ac === inflight) {
        inflight = null;
        tableBox.removeAttribute('aria-busy');
        schedule();
      }
    }
  };

  let typing: number | undefined;
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void load(true);
  });
  moduleSelect.addEventListener('change', () => void load(true));
  failingBox.addEventListener('change', () => void load(true));
  targetInput.addEventListener('input', () => {
    window.clearTimeout(typing);
    typing = window.setTimeout(() => void load(true), 250);
  });
  tableBox.addEventListener('click', (ev) => {
    const button = ev.target instanceof Element ? ev.target.closest('button[data-sort]') : null;
    if (!(button instanceof HTMLButtonElement)) return;
    const key = button.dataset.sort ?? 'result';
    if (key === sort) order = order === 'asc' ? 'desc' : 'asc';
    else {
      sort = key;
      order = DESC_FIRST.has(key) ? 'desc' : 'asc';
    }
    void load(true);
  });
  pauseButton.addEventListener('click', () => {
    paused = !paused;
    pauseButton.textContent = paused ? 'Resume auto-refresh' : 'Pause auto-refresh';
    status.textContent = paused ? 'Auto-refresh paused.' : 'Auto-refresh resumed.';
    if (paused) {
      window.clearTimeout(timer);
      updated.textContent = `${updated.textContent?.replace(/ \(auto-refresh paused\)$/, '') ?? ''} (auto-refresh paused)`;
    } else void load(false);
  });
  refreshButton.addEventListener('click', () => void load(true));
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && !paused && !inflight) void load(false);
  });
  void load(false);
}
