import { createMiddleware } from 'hono/factory';
import { HTTPException } from 'hono/http-exception';
import { ProbeRefusal } from '../probe/refusal.js';
import type { ProbeResult, ProbeService } from '../probe/service.js';

/** Routes behind runProbe find the finished probe in `c.var.probe`. */
export type ProbeEnv = { Variables: { probe: ProbeResult } };

/**
 * Runs the probe the query asks for, under the request's abort signal, before the route
 * renders it. A refusal (400, 403, 503) is thrown as an HTTPException carrying its status
 * and reason; each sub-app's onError renders it in that sub-app's format.
 */
export function runProbe(service: ProbeService) {
  return createMiddleware<ProbeEnv>(async (c, next) => {
    try {
      const request = service.parse({
        params: new URL(c.req.url).searchParams,
        scrapeTimeoutSeconds: c.req.header('X-Prometheus-Scrape-Timeout-Seconds'),
      });
      c.set('probe', await service.run(request, c.req.raw.signal));
    } catch (err) {
      if (err instanceof ProbeRefusal) throw new HTTPException(err.status, { message: err.message, cause: err });
      throw err;
    }
    await next();
  });
}

/** The refusal behind an error, if it is one; anything else is a bug for the app's own onError. */
export function refusalOf(err: Error): ProbeRefusal | undefined {
  return err instanceof HTTPException && err.cause instanceof ProbeRefusal ? err.cause : undefined;
}
