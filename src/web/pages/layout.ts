import { escapeHtml } from '../html.js';

/**
 * Pages carry no inline script or style: the stylesheet and the script are
 * served by the exporter (routes/assets.ts), so the policy can refuse everything
 * inline. Target strings are attacker-controlled and end up on these pages.
 */
export const PAGE_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  // Every page shows live state: a cached one would show a gateway as it was.
  'Cache-Control': 'no-store',
};

export type Section = 'probe' | 'fleet' | 'history' | 'config' | 'sessions' | 'logs';

export interface PageSpec {
  title: string;
  section: Section;
  version: string;
  /** Already-escaped HTML for <main>. */
  main: string;
  withScript?: boolean;
}

const NAV: [Section, string, string][] = [
  ['probe', './', 'Probe'],
  ['fleet', 'fleet', 'Fleet'],
  ['history', 'history', 'History'],
  ['config', 'config', 'Config'],
];

/** The shell every page shares. Links are relative so the UI works behind a path prefix. */
export function renderPage(p: PageSpec): string {
  const nav = NAV.map(([s, href, label]) => `<a href="${href}"${s === p.section ? ' aria-current="page"' : ''}>${label}</a>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${escapeHtml(p.title)} · VPN Exporter</title>
<link rel="icon" href="assets/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="assets/ui.css">
${p.withScript ? '<script src="assets/ui.js" defer></script>\n' : ''}</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top"><span class="brand">VPN Exporter</span>
<nav aria-label="Main">${nav}<a href="metrics">Metrics</a></nav></header>
<main id="main" tabindex="-1">
${p.main}
</main>
<footer class="foot">vpn-exporter ${escapeHtml(p.version)} · <a href="-/healthy">health</a></footer>
</body></html>
`;
}

/** A table whose header names each cell, so narrow screens can show rows as labelled cards. Cells are HTML, escaped by the caller. */
/** `id` names the table for links and tests, as the browser script's tables are named. */
export function renderTable(caption: string, headers: readonly string[], rows: readonly (readonly string[])[], empty: string, id?: string): string {
  const idAttr = id === undefined ? '' : ` id="${escapeHtml(id)}"`;
  if (rows.length === 0) return `<p class="empty"${idAttr}>${escapeHtml(empty)}</p>`;
  const head = headers.map((h) => `<th scope="col" role="columnheader">${escapeHtml(h)}</th>`).join('');
  const body = rows
    .map((cells) => `<tr role="row">${cells.map((cell, i) => `<td role="cell" data-label="${escapeHtml(headers[i] ?? '')}">${cell}</td>`).join('')}</tr>`)
    .join('\n');
  // Explicit roles: the narrow-screen card layout changes display, which costs table semantics in some browsers.
  return `<div class="table-wrap"><table class="cards" role="table"${idAttr}><caption class="sr-only">${escapeHtml(caption)}</caption>
<thead role="rowgroup"><tr role="row">${head}</tr></thead>
<tbody role="rowgroup">
${body}
</tbody></table></div>`;
}

/** A state word with its colour: colour alone says nothing to some readers. */
export function badge(kind: string, label: string): string {
  return `<span class="badge badge-${escapeHtml(kind.replace(/[^a-z-]/g, ''))}">${escapeHtml(label)}</span>`;
}

export function formatTime(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, ' UTC');
}
