import type { SessionRow } from '../../exposition/sessions-json.js';
import type { Certificate, Crl, GatewayInfo, Shunt } from '../../model/snapshot.js';
import { escapeHtml } from '../html.js';
import { fromNow, humanBytes, humanDuration } from './format.js';
import { formatTime, renderPage, renderTable } from './layout.js';

export interface SessionsView {
  target: string;
  module: string;
  id: number;
  durationSeconds: number;
  info: GatewayInfo;
  rows: readonly SessionRow[];
  /** Pass/drop policies and the daemon's certificates, as the landing page shows them; absent when the prober reports none. */
  shunts?: readonly Shunt[];
  certificates?: readonly Certificate[];
  crls?: readonly Crl[];
  nowSeconds: number;
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

/** An absolute date with how far it is from now, as the landing page prints it. */
function when(timestampSeconds: number, nowSeconds: number): string {
  const at = new Date(timestampSeconds * 1000).toISOString();
  const cls = timestampSeconds >= nowSeconds ? '' : ' class="expired"';
  return `<span${cls}><time datetime="${at}">${at.slice(0, 10)}</time> <span class="detail">(${fromNow(timestampSeconds, nowSeconds)})</span></span>`;
}

/** Shunts, then certificates and CRLs: what the gateway enforces beside its sessions. */
function policyAndTrust(v: SessionsView): string {
  const out: string[] = [];
  const shunts = v.shunts ?? [];
  if (shunts.length > 0) {
    const rows = shunts.map((h) =>
      [h.conn, h.name, h.mode, h.localTs.join(', '), h.remoteTs.join(', '), h.installed === undefined ? '' : h.installed ? 'yes' : 'no'].map(escapeHtml),
    );
    out.push(`<h2>Shunts (${shunts.length})</h2>
<p class="hint">Pass and drop policies: not tunnels, so never counted as down.</p>
${renderTable('Shunts', ['Conn', 'Child', 'Mode', 'Local', 'Remote', 'Installed'], rows, '', 'shunts')}`);
  }
  const certificates = v.certificates ?? [];
  const crls = v.crls ?? [];
  if (certificates.length + crls.length > 0) {
    const certRows = certificates.map((c) => [
      ...[c.subject, c.issuer, c.role, c.hasPrivateKey ? 'held' : ''].map(escapeHtml),
      when(c.notAfterTimestamp, v.nowSeconds),
    ]);
    const crlRows = crls.map((c) => [escapeHtml(c.issuer), c.nextUpdateTimestamp === undefined ? 'none named' : when(c.nextUpdateTimestamp, v.nowSeconds)]);
    out.push(`<h2>Certificates (${certificates.length}) and CRLs (${crls.length})</h2>
${renderTable('Certificates', ['Subject', 'Issuer', 'Role', 'Private key', 'Expires'], certRows, 'The daemon holds no certificate.', 'certificates')}
${renderTable('CRLs', ['Issuer', 'Next update'], crlRows, '', 'crls')}`);
  }
  return out.map((x) => `\n${x}`).join('');
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
${renderTable('Sessions and users', ['User', 'Tunnel', 'Remote address', 'Virtual IP', 'In', 'Out', 'Connected since', 'State', ...(withDetails ? ['Details'] : [])], rows, 'No peer or user is connected.', 'sessions')}${policyAndTrust(v)}`;
  return renderPage({ title: `Sessions on ${v.target}`, section: 'sessions', version, main });
}
