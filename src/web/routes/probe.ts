import { Hono } from 'hono';
import { TEXT_CONTENT_TYPE } from '../../exposition/metric-set.js';
import { renderDebugOutput } from '../debug-output.js';
import type { AppDeps } from '../deps.js';
import { runProbe, type ProbeEnv } from '../probe-middleware.js';

/** GET /probe: the Prometheus contract. A failed probe is a 200 with probe_success 0; a refused one is its status with the reason. */
/** Bodies above this are streamed in their chunks rather than joined. */
const STREAM_FROM_BYTES = 1 << 20;

export function probeRoutes(deps: AppDeps): Hono<ProbeEnv> {
  const app = new Hono<ProbeEnv>();
  app.get(
    '/probe',
    runProbe(deps.probes, (c, refused) => c.text(`${refused.message}\n`, refused.status)),
    (c) => {
      const probe = c.var.probe;
      if (probe.request.debug) return c.text(renderDebugOutput(probe.log, probe.metrics, probe.request.module));
      const chunks = probe.metrics.renderChunks();
      const length = chunks.reduce((n, b) => n + b.length, 0);
      // A small body is joined: a web stream costs more per response than the copy (a refused probe's
      // 500 bytes went out 13% slower under load through one). A large gateway's is sent as the
      // families wrote it: joining 15 MB first cost a copy and its memory.
      if (length <= STREAM_FROM_BYTES) return c.body(Buffer.concat(chunks, length), 200, { 'Content-Type': TEXT_CONTENT_TYPE });
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          const next = chunks.shift();
          if (next === undefined) controller.close();
          else controller.enqueue(next);
        },
      });
      return c.body(body, 200, { 'Content-Type': TEXT_CONTENT_TYPE, 'Content-Length': String(length) });
    },
  );
  return app;
}
