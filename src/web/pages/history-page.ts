import { escapeHtml } from '../html.js';
import type { ProbeRecord } from '../../probe/history.js';
import { badge, formatTime, renderPage, renderTable } from './layout.js';

function probeLink(r: ProbeRecord): string {
  const q = new URLSearchParams({ target: r.target, module: r.module });
  return `<a href="./?${escapeHtml(q.toString())}" title="Probe again">${escapeHtml(r.target)}</a>`;
}

function resultCell(r: ProbeRecord): string {
  if (r.success) return badge('success', 'success');
  const reason = r.failureReason ? ` <code class="reason">${escapeHtml(r.failureReason)}</code>` : '';
  return `${badge('failure', 'failure')}${reason} <span class="detail">${escapeHtml(r.failure ?? '')}</span>`;
}

/** Recent probes, newest first, optionally those whose target contains `filter`. */
export function renderHistoryPage(records: readonly ProbeRecord[], limit: number, filter: string, version: string): string {
  const rows = records.map((r) => [
    `<time datetime="${new Date(r.startedAt).toISOString()}">${formatTime(r.startedAt)}</time>`,
    escapeHtml(r.module),
    probeLink(r),
    resultCell(r),
    `${r.durationSeconds.toFixed(3)} s`,
    String(r.series),
    `<a href="logs?id=${r.id}">log #${r.id}</a>`,
  ]);
  const empty = filter ? `No probe of a target containing "${filter}" is in the history.` : 'No probe has run yet.';
  const main = `<h1>Recent probes</h1>
<p>The last ${limit} probes are kept; when the history is full, successes are dropped before failures.</p>
<form class="filter" action="history" method="get" role="search">
<div class="field"><label for="filter-target">Target contains</label>
<input id="filter-target" name="target" type="search" maxlength="300" value="${escapeHtml(filter)}"></div>
<button type="submit">Filter</button>${filter ? ' <a href="history">Show all</a>' : ''}
</form>
<h2>${filter ? 'Matching probes' : 'Probes'} (${records.length})</h2>
${renderTable('Recent probes', ['Time', 'Module', 'Target', 'Result', 'Duration', 'Series', 'Log'], rows, empty)}`;
  return renderPage({ title: 'History', section: 'history', version, main });
}
