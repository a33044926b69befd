import { escapeHtml } from '../html.js';
import { renderPage, type Section } from './layout.js';

/** A page that only says why there is nothing to show (bad request, evicted log, failed probe). */
export function renderMessagePage(section: Section, title: string, message: string, version: string, extraHtml = ''): string {
  const main = `<h1>${escapeHtml(title)}</h1>
<p class="outcome fail"><span class="reason">${escapeHtml(message)}</span></p>
${extraHtml}<p class="links"><a href="./">Probe a gateway</a><a href="history">Recent probes</a></p>`;
  return renderPage({ title, section, version, main });
}
