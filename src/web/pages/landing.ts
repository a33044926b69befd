import type { Config } from '../../config/config.js';
import { escapeHtml } from '../html.js';
import { renderPage } from './layout.js';

export interface LandingQuery {
  target?: string;
  module?: string;
}

function moduleOptions(config: Config, selected: string | undefined): string {
  return [...config.modules.values()]
    .map((m) => {
      const sel = m.name === selected ? ' selected' : '';
      return `<option value="${escapeHtml(m.name)}"${sel}>${escapeHtml(m.name)} (${escapeHtml(m.prober.name)})</option>`;
    })
    .join('');
}

/**
 * The probe form. The form state is the query string, so a probe is a URL people
 * can bookmark; the client script (assets/ui.js) runs it and draws the result.
 */
export function renderLandingPage(config: Config, version: string, query: LandingQuery = {}): string {
  const none = config.modules.size === 0;
  const main = `<h1>Probe a gateway</h1>
<form class="probe panel" id="probe-form" action="./" method="get">
<div class="field"><label for="target">Target</label>
<input id="target" name="target" type="text" required maxlength="300" autocomplete="off" autocapitalize="off" spellcheck="false"
 inputmode="url" placeholder="vpn.example.net:4502" aria-describedby="target-hint" value="${escapeHtml(query.target ?? '')}">
<span class="hint" id="target-hint">host, host:port or [IPv6]:port</span></div>
<div class="field"><label for="module">Module</label>
<select id="module" name="module" required aria-describedby="module-hint"${none ? ' disabled' : ''}>${moduleOptions(config, query.module)}</select>
<span class="hint" id="module-hint">${none ? 'No modules are configured.' : 'configured modules, with their prober'}</span></div>
<button type="submit" id="probe-button"${none ? ' disabled' : ''}>Probe</button>
</form>
<p id="probe-status" class="sr-only" role="status" aria-live="polite"></p>
<div id="probe-result"></div>
<noscript><p>Showing results here needs JavaScript. Without it, use
<code>probe?target=…&amp;module=…</code> (metrics) or <code>sessions.html?target=…&amp;module=…</code>.</p></noscript>
<h2>Endpoints</h2>
<ul class="endpoints">
<li><code>probe?target=&amp;module=</code>: metrics for Prometheus (<code>&amp;debug=true</code> adds the probe's log)</li>
<li><code>api/probe?target=&amp;module=</code>: the probe's whole result as JSON</li>
<li><code>sessions?target=&amp;module=</code>: connected peers and users as JSON; <code>sessions.html</code> as a page</li>
<li><a href="fleet">Fleet</a>: the last probe of every target probed in the last hour; <code>api/fleet</code> as JSON</li>
<li><a href="history">History</a> of recent probes, <a href="config">configuration</a>, the exporter's own <a href="metrics">metrics</a></li>
</ul>`;
  return renderPage({ title: 'Probe', section: 'probe', version, main, withScript: true });
}
