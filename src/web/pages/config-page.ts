import { stringify } from 'yaml';
import type { Config } from '../../config/config.js';
import { escapeHtml } from '../html.js';
import { renderPage } from './layout.js';

/** The modules in force as YAML, from each module's display form: inline secrets never reach the page. */
export function renderConfigPage(config: Config, version: string): string {
  const modules = Object.fromEntries([...config.modules.values()].map((m) => [m.name, m.display]));
  const auths = Object.fromEntries([...config.auths.values()].map((a) => [a.name, a.display]));
  const yaml = (config.auths.size > 0 ? stringify({ auths }) : '') + (config.modules.size === 0 ? 'modules: {}\n' : stringify({ modules }));
  const main = `<h1>Configuration</h1>
<p>${config.modules.size} module(s) loaded from <code>${escapeHtml(config.file)}</code>. Inline passwords, keys and passphrases show as <code>&lt;secret&gt;</code>.</p>
<pre tabindex="0" aria-label="Modules as YAML">${escapeHtml(yaml)}</pre>`;
  return renderPage({ title: 'Configuration', section: 'config', version, main });
}
