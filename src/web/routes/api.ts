import { Hono } from 'hono';
import { sessionRows } from '../../exposition/sessions-json.js';
import type { AppDeps } from '../deps.js';
import { runProbe, type ProbeEnv } from '../probe-middleware.js';

const API_HEADERS = { 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' };

/**
 * The JSON side of the UI. Both run one probe with /probe's validation and
 * timeout; a refused request is its status with {"error": reason}.
 *
 * How a failed probe answers follows from what each endpoint returns:
 * - /api/probe reports on the probe itself, so a failed probe is a complete
 *   answer: 200 with success false and the reason, as /probe answers 200 with
 *   probe_success 0.
 * - /sessions returns the gateway's data (a bare list, as the replaced exporters
 *   served it); a failed probe has none, so it is a 502 Bad Gateway with
 *   {"error": reason}, never an empty list a script would take for "nobody connected".
 */
export function apiRoutes(deps: AppDeps): Hono<ProbeEnv> {
  const app = new Hono<ProbeEnv>();
  const probe = runProbe(deps.probes, (c, refused) => c.json({ error: refused.message }, refused.status, API_HEADERS));

  app.get('/api/probe', probe, (c) => {
    const p = c.var.probe;
    return c.json(
      {
        id: p.id,
        time: new Date(p.startedAt).toISOString(),
        module: p.module,
        prober: p.prober,
        target: p.target,
        success: p.success,
        durationSeconds: p.durationSeconds,
        reason: p.failure ?? null,
        failureReason: p.failureReason ?? null,
        // fetched: its own gateway fetch; joined: one in flight; recent: a recent one, ageSeconds old (min_interval).
        source: p.source,
        ageSeconds: p.ageSeconds ?? null,
        // Sample lines in `metrics`, under the module's detail level, user_labels and max_users.
        series: p.series,
        snapshot: p.snapshot ?? null,
        // The exposition of this very probe, so the page's metrics match its tables.
        metrics: p.metrics.render(),
      },
      200,
      API_HEADERS,
    );
  });

  app.get('/sessions', probe, (c) => {
    const p = c.var.probe;
    if (!p.snapshot) return c.json({ error: p.failure ?? 'probe failed' }, 502, API_HEADERS);
    return c.json(sessionRows(p.snapshot, p.request.target.host, Date.now()), 200, API_HEADERS);
  });

  return app;
}
