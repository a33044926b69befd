import { Hono, type Context } from 'hono';
import { buildProbeMetrics } from '../../exposition/probe-metrics.js';
import { sessionRows } from '../../exposition/sessions-json.js';
import type { AppDeps } from '../deps.js';
import { executeProbe } from '../../probe/service.js';
import { parseProbeRequest, type ProbeParams } from '../../probe/request.js';

const API_HEADERS = { 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' };

function parseOrReject(c: Context, deps: AppDeps): ProbeParams | Response {
  const params = parseProbeRequest(c, deps);
  if (!('reason' in params)) return params;
  return c.json({ error: params.reason }, params.status, API_HEADERS);
}

/**
 * The JSON side of the UI. Both run one probe with /probe's validation and
 * timeout; a bad request is a 400 with {"error": reason}.
 *
 * How a failed probe answers follows from what each endpoint returns:
 * - /api/probe reports on the probe itself, so a failed probe is a complete
 *   answer: 200 with success false and the reason, as /probe answers 200 with
 *   probe_success 0.
 * - /sessions returns the gateway's data (a bare list, as the replaced exporters
 *   served it); a failed probe has none, so it is a 502 Bad Gateway with
 *   {"error": reason}, never an empty list a script would take for "nobody connected".
 */
export function apiRoutes(deps: AppDeps): Hono {
  const app = new Hono();

  app.get('/api/probe', async (c) => {
    const params = parseOrReject(c, deps);
    if (params instanceof Response) return params;
    const ran = await executeProbe(c, deps, params);
    if ('reason' in ran) return c.json({ error: ran.reason }, ran.status, API_HEADERS);
    const { outcome, id } = ran;
    const metrics = buildProbeMetrics(outcome).render();
    const startedAt = deps.history.get(id)?.startedAt ?? Date.now() - outcome.durationSeconds * 1000;
    return c.json(
      {
        id,
        time: new Date(startedAt).toISOString(),
        module: params.module.name,
        prober: params.module.prober.name,
        target: params.target.raw,
        success: outcome.success,
        durationSeconds: outcome.durationSeconds,
        reason: outcome.failure ?? null,
        snapshot: outcome.snapshot ?? null,
        // The exposition of this very probe, so the page's metrics match its tables.
        metrics,
      },
      200,
      API_HEADERS,
    );
  });

  app.get('/sessions', async (c) => {
    const params = parseOrReject(c, deps);
    if (params instanceof Response) return params;
    const ran = await executeProbe(c, deps, params);
    if ('reason' in ran) return c.json({ error: ran.reason }, ran.status, API_HEADERS);
    const { outcome } = ran;
    if (!outcome.snapshot) return c.json({ error: outcome.failure ?? 'probe failed' }, 502, API_HEADERS);
    return c.json(sessionRows(outcome.snapshot, params.target.host, Date.now()), 200, API_HEADERS);
  });

  return app;
}
