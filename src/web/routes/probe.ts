import { Hono } from 'hono';
import { TEXT_CONTENT_TYPE } from '../../exposition/metric-set.js';
import { renderDebugOutput } from '../debug-output.js';
import type { AppDeps } from '../deps.js';
import { refusalOf, runProbe, type ProbeEnv } from '../probe-middleware.js';

/** GET /probe: the Prometheus contract. A failed probe is a 200 with probe_success 0; a refused one is its status with the reason. */
export function probeRoutes(deps: AppDeps): Hono<ProbeEnv> {
  const app = new Hono<ProbeEnv>();
  app.get('/probe', runProbe(deps.probes), (c) => {
    const probe = c.var.probe;
    if (probe.request.debug) return c.text(renderDebugOutput(probe.log, probe.metrics, probe.request.module));
    // Sent as the families wrote them: joining a large gateway's 15 MB first cost a copy and its memory.
    const chunks = probe.metrics.renderChunks();
    const length = chunks.reduce((n, b) => n + b.length, 0);
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift();
        if (next === undefined) controller.close();
        else controller.enqueue(next);
      },
    });
    return c.body(body, 200, { 'Content-Type': TEXT_CONTENT_TYPE, 'Content-Length': String(length) });
  });
  app.onError((err, c) => {
    const refused = refusalOf(err);
    if (!refused) throw err;
    return c.text(`${refused.message}\n`, refused.status);
  });
  return app;
}
