import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { ServerResponse } from 'node:http';
import { clientGoneBySignal, type OnClientGone } from '../probe/budget.js';
import { ProbeRefusal } from '../probe/refusal.js';
import type { ProbeResult, ProbeService } from '../probe/service.js';

/** Routes behind runProbe find the finished probe in `c.var.probe`. */
export type ProbeEnv = { Variables: { probe: ProbeResult } };

/** How a route answers a probe it may not run, in its own format (text, JSON, a page). */
export type RenderRefusal = (c: Context<ProbeEnv>, refusal: ProbeRefusal) => Response;

/**
 * Runs the probe the query asks for, cancelled if its client goes away, before the route
 * renders it. A refusal (400, 403, 503) is answered here by `refused`, with its status and
 * reason. Not thrown to an onError: a sub-app with an onError of its own makes Hono wrap
 * each of its handlers in a fresh compose() on every request (6 KB and a few µs a probe).
 */
export function runProbe(service: ProbeService, refused: RenderRefusal) {
  return createMiddleware<ProbeEnv>(async (c, next) => {
    try {
      const request = service.parse({
        params: new URL(c.req.url).searchParams,
        scrapeTimeoutSeconds: c.req.header('X-Prometheus-Scrape-Timeout-Seconds'),
      });
      c.set('probe', await service.run(request, clientGone(c)));
    } catch (err) {
      if (err instanceof ProbeRefusal) return refused(c, err);
      throw err;
    }
    await next();
  });
}

/**
 * When the client goes away: from Node's response, closed before it finished, as
 * @hono/node-server itself decides it. Not from `c.req.raw.signal`, which would make
 * the adapter create an AbortSignal for every request (~5 µs on Node 20, a tenth of
 * the exporter's own work on a refused probe); that stays for other runtimes and tests.
 */
function clientGone(c: Context): OnClientGone {
  const outgoing = (c.env as Partial<HttpBindings> | undefined)?.outgoing;
  if (!(outgoing instanceof ServerResponse)) return clientGoneBySignal(c.req.raw.signal);
  return (listener) => {
    if (outgoing.destroyed && !outgoing.writableFinished) {
      listener();
      return () => {};
    }
    const onClose = () => {
      if (!outgoing.writableFinished) listener();
    };
    outgoing.once('close', onClose);
    return () => outgoing.off('close', onClose);
  };
}
