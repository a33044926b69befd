import type { Config } from '../../config/config.js';
import { escapeHtml } from '../html.js';

export function renderLandingPage(config: Config, version: string): string {
  const modules = [...config.modules.values()]
    .map((m) => `<li><code>${escapeHtml(m.name)}</code> (${escapeHtml(m.prober.name)})</li>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>VPN Exporter</title></head>
<body>
<h1>VPN Exporter</h1>
<p>Version ${escapeHtml(version)}. Probe a gateway with <code>/probe?target=host[:port]&amp;module=name</code>.</p>
<h2>Modules</h2><ul>${modules}</ul>
<ul><li><a href="metrics">Exporter metrics</a></li><li><a href="-/healthy">Health</a></li></ul>
</body></html>
`;
}
