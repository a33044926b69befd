import { Hono } from 'hono';
import { TEXT_CONTENT_TYPE } from '../../exposition/metric-set.js';
import { buildProbeMetrics } from '../../exposition/probe-metrics.js';
import { renderDebugOutput } from '../debug-output.js';
import type { AppDeps } from '../deps.js';
import { executeProbe } from '../../probe/service.js';
import { parseProbeRequest } from '../../probe/request.js';

/** GET /probe: the Prometheus contract. A failed probe is a 200 with probe_success 0; a bad request is a 400. */
export function probeRoutes(deps: AppDeps): Hono {
  const app = new Hono();
  app.get('/probe', async (c) => {
    const params = parseProbeRequest(c, deps);
    if ('reason' in params) return c.text(params.reason + '\n', params.status);
    const ran = await executeProbe(c, deps, params);
    if ('reason' in ran) return c.text(ran.reason + '\n', ran.status);
    const { outcome, log } = ran;
    const metrics = buildProbeMetrics(outcome);
    if (params.debug) return c.text(renderDebugOutput(log.entries, metrics.render(), params.module));
    return c.body(metrics.renderBytes(), 200, { 'Content-Type': TEXT_CONTENT_TYPE });
  });
  return app;
}
