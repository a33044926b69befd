import type { SessionRow } from '../../exposition/sessions-json.js';
import type { GatewayInfo } from '../../model/snapshot.js';
import { escapeHtml } from '../html.js';
import { humanBytes, humanDuration } from './format.js';
import { formatTime, renderPage, renderTable } from './layout.js';

export interface SessionsView {
  target: string;
  module: string;
  id: number;
  durationSeconds: number;
  info: GatewayInfo;
  rows: readonly SessionRow[];
}

function remote(r: SessionRow): string {
  if (!r.remoteport) return escapeHtml(r.remotehost);
  const host = r.remotehost.includes(':') ? `[${r.remotehost}]` : r.remotehost;
  return escapeHtml(`${host}:${r.remoteport}`);
}

function since(r: SessionRow): string {
  if (!r.established || r.connectedSeconds === null) return '';
  return `<time datetime="${escapeHtml(r.established)}">${escapeHtml(formatTime(Date.parse(r.established)))}</time> <span class="detail">(${humanDuration(r.connectedSeconds)})</span>`;
}

function details(d: Readonly<Record<string, string>>): string {
  return Object.entries(d)
    .map(([k, v]) => `<span class="detail">${escapeHtml(k)}:</span> ${escapeHtml(v)}`)
    .join('<br>');
}

/** The /sessions rows as a page: what the replaced exporters served on /static. */
export function renderSessionsPage(v: SessionsView, version: string): string {
  const q = new URLSearchParams({ target: v.target, module: v.module }).toString();
  // Descriptive fields (a GlobalProtect user's computer, a WireGuard peer's key and handshake) when any row has them.
  const withDetails = v.rows.some((r) => Object.keys(r.details).length > 0);
  const rows = v.rows.map((r) => [
    escapeHtml(r.user),
    escapeHtml(r.tunnel),
    remote(r),
    escapeHtml(r.virtualAddresses.join(', ')),
    r.traffic ? humanBytes(r.traffic.bytesIn) : '',
    r.traffic ? humanBytes(r.traffic.bytesOut) : '',
    since(r),
    `${escapeHtml(r.state)}${r.protocol ? ` <span class="detail">${escapeHtml(r.protocol)}</span>` : ''}`,
    ...(withDetails ? [details(r.details)] : []),
  ]);
  const product = [v.info.product, v.info.version].filter(Boolean).join(' ');
  const main = `<h1>Sessions on <code>${escapeHtml(v.target)}</code></h1>
<p>${escapeHtml(v.info.hostname ?? v.target)}: ${escapeHtml(product)} (${escapeHtml(v.info.vendor)}), module <code>${escapeHtml(v.module)}</code>, probed in ${v.durationSeconds.toFixed(3)} s.</p>
<p class="links"><a href="sessions?${escapeHtml(q)}">JSON</a><a href="./?${escapeHtml(q)}">Full probe result</a><a href="logs?id=${v.id}">Probe log</a></p>
<h2>Sessions and users (${v.rows.length})</h2>
${renderTable('Sessions and users', ['User', 'Tunnel', 'Remote address', 'Virtual IP', 'In', 'Out', 'Connected since', 'State', ...(withDetails ? ['Details'] : [])], rows, 'No peer or user is connected.')}`;
  return renderPage({ title: `Sessions on ${v.target}`, section: 'sessions', version, main });
}
