import type { Config } from '../../config/config.js';
import { escapeHtml } from '../html.js';
import { renderPage } from './layout.js';

export interface FleetQuery {
  module: string;
  target: string;
  failing: boolean;
}

/**
 * The fleet page's shell: the filter form, as the URL sets it, and the places the script
 * (client/fleet.ts) fills from /api/fleet, every 15 s until paused.
 */
export function renderFleetPage(config: Config, maxEntries: number, query: FleetQuery, version: string): string {
  const names = [...config.modules.keys()];
  // A module filtered by a bookmark but no longer configured (a reload) still has its entries for the hour.
  if (query.module && !names.includes(query.module)) names.push(query.module);
  const options = names.map((n) => `<option value="${escapeHtml(n)}"${n === query.module ? ' selected' : ''}>${escapeHtml(n)}</option>`).join('');
  const main = `<h1>Fleet</h1>
<p>The last probe of every module, target and auth probed in the last hour, from the probes Prometheus
(or anyone) makes: this page probes nothing itself. At most ${maxEntries.toLocaleString('en-US')} are kept
(<code>--fleet.max-targets</code>); beyond that the least recently probed are dropped first.</p>
<form class="filter" id="fleet-filter" action="fleet" method="get" role="search">
<div class="field"><label for="fleet-module">Module</label>
<select id="fleet-module" name="module"><option value="">All modules</option>${options}</select></div>
<div class="field"><label for="fleet-target">Target contains</label>
<input id="fleet-target" name="target" type="search" maxlength="300" autocomplete="off" autocapitalize="off" spellcheck="false" value="${escapeHtml(query.target)}"></div>
<div class="field check"><input id="fleet-failing" name="failing" type="checkbox" value="true"${query.failing ? ' checked' : ''}>
<label for="fleet-failing">Only failing</label></div>
<button type="submit" id="fleet-apply">Filter</button>
</form>
<div class="toolbar">
<button type="button" class="secondary" id="fleet-pause">Pause auto-refresh</button>
<button type="button" class="secondary" id="fleet-refresh">Refresh now</button>
<span class="detail" id="fleet-updated"></span>
</div>
<p class="notice" id="fleet-dropped" hidden></p>
<p id="fleet-count"></p>
<p id="fleet-status" class="sr-only" role="status" aria-live="polite"></p>
<div id="fleet-table"><p class="pending">Loading…</p></div>
<noscript><p>This page needs JavaScript. Without it, <code>api/fleet</code> gives the same list as JSON
(<code>?module=&amp;target=&amp;failing=true&amp;sort=&amp;order=</code>), and the <a href="history">history</a> each probe.</p></noscript>`;
  return renderPage({ title: 'Fleet', section: 'fleet', version, main, withScript: true });
}
