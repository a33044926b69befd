import { droppedNote, formatLogEntry } from '../debug-output.js';
import { escapeHtml } from '../html.js';
import type { ProbeRecord } from '../../probe/history.js';
import { badge, formatTime, renderPage } from './layout.js';

/** One probe's log lines with their offsets from the probe's start. */
export function renderLogsPage(r: ProbeRecord, version: string): string {
  const again = new URLSearchParams({ target: r.target, module: r.module });
  const lines = r.log.entries.map(formatLogEntry).join('\n') + droppedNote(r.log.dropped);
  const main = `<h1>Log of probe #${r.id}</h1>
<dl class="info">
<dt>Time</dt><dd>${formatTime(r.startedAt)}</dd>
<dt>Target</dt><dd><code>${escapeHtml(r.target)}</code></dd>
<dt>Module</dt><dd><code>${escapeHtml(r.module)}</code> (${escapeHtml(r.prober)})</dd>
<dt>Result</dt><dd>${r.success ? badge('success', 'success') : `${badge('failure', 'failure')} <code>${escapeHtml(r.failureReason ?? '')}</code> ${escapeHtml(r.failure ?? '')}`}</dd>
<dt>Duration</dt><dd>${r.durationSeconds.toFixed(3)} s</dd>
</dl>
<p class="links"><a href="./?${escapeHtml(again.toString())}">Probe again</a><a href="history?target=${escapeHtml(encodeURIComponent(r.target))}">Probes of this target</a></p>
<pre class="wrap" id="probe-log" aria-label="Probe log">${escapeHtml(lines)}</pre>`;
  return renderPage({ title: `Log of probe #${r.id}`, section: 'logs', version, main });
}
