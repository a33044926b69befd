import { Hono, type Context } from 'hono';
import { sessionRows } from '../../exposition/sessions-json.js';
import type { AppDeps } from '../deps.js';
import { runProbe, type ProbeEnv, type RenderRefusal } from '../probe-middleware.js';
import { renderConfigPage } from '../pages/config-page.js';
import { renderHistoryPage } from '../pages/history-page.js';
import { renderLandingPage } from '../pages/landing.js';
import { PAGE_SECURITY_HEADERS } from '../pages/layout.js';
import { renderLogsPage } from '../pages/logs-page.js';
import { renderMessagePage } from '../pages/message-page.js';
import { renderSessionsPage } from '../pages/sessions-page.js';

const MAX_QUERY = 300;

/** A query parameter for display only (never probed from here): first value, bounded. */
function shown(c: Context, name: string): string {
  return (c.req.query(name) ?? '').slice(0, MAX_QUERY);
}

function page(c: Context, html: string, status: 200 | 400 | 403 | 404 | 502 | 503 = 200): Response {
  return c.html(html, status, PAGE_SECURITY_HEADERS);
}

/** The browser UI: landing page, history, probe logs, configuration and the sessions view (assets: routes/assets.ts). */
export function uiRoutes(deps: AppDeps): Hono<ProbeEnv> {
  const app = new Hono<ProbeEnv>();
  const v = deps.version;

  app.get('/', (c) => page(c, renderLandingPage(deps.config.current, v, { target: shown(c, 'target'), module: shown(c, 'module') })));
  app.get('/config', (c) => page(c, renderConfigPage(deps.config.current, v)));
  app.get('/history', (c) => {
    const filter = shown(c, 'target');
    return page(c, renderHistoryPage(deps.history.list(filter), deps.history.limit, filter, v));
  });
  app.get('/logs', (c) => {
    const raw = c.req.query('id') ?? '';
    if (!/^\d{1,15}$/.test(raw)) return page(c, renderMessagePage('logs', 'No such probe', 'id must be a probe number, as the history links give it.', v), 400);
    const record = deps.history.get(Number(raw));
    if (!record) {
      return page(c, renderMessagePage('logs', 'No such probe', `Probe #${raw} is not in the history (only the last ${deps.history.limit} are kept).`, v), 404);
    }
    return page(c, renderLogsPage(record, v));
  });

  const refused: RenderRefusal = (c, refusal) => {
    // 503: the request was fine but found no slot; the others were not probe requests to run.
    const title = refusal.status === 503 ? 'Probe not run' : 'Cannot probe';
    return page(c, renderMessagePage('sessions', title, refusal.message, v), refusal.status);
  };
  app.get('/sessions.html', runProbe(deps.probes, refused), (c) => {
    const p = c.var.probe;
    // As /sessions (routes/api.ts): a failed probe has no sessions to show, so it is a 502, not an empty table.
    if (!p.snapshot) {
      const log = `<p><a href="logs?id=${p.id}">Log of probe #${p.id}</a></p>\n`;
      return page(c, renderMessagePage('sessions', 'Probe failed', p.failure ?? 'probe failed', v, log), 502);
    }
    const now = Date.now();
    const s = p.snapshot;
    const rows = sessionRows(s, p.request.target.host, now);
    const view = {
      target: p.target,
      module: p.module,
      id: p.id,
      durationSeconds: p.durationSeconds,
      info: s.info,
      rows,
      shunts: s.shunts,
      certificates: s.certificates,
      crls: s.crls,
      nowSeconds: now / 1000,
    };
    return page(c, renderSessionsPage(view, v));
  });

  return app;
}
