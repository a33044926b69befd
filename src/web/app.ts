import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { AppDeps } from './deps.js';
import { adminRoutes } from './routes/admin.js';
import { apiRoutes } from './routes/api.js';
import { assetRoutes } from './routes/assets.js';
import { fleetRoutes } from './routes/fleet.js';
import { probeRoutes } from './routes/probe.js';
import { uiRoutes } from './routes/ui.js';
import { securityMiddleware } from './security/middleware.js';
import type { WebSecurity } from './security/web-security.js';

/**
 * Every route, under `routePrefix` when the exporter sits behind a reverse proxy at a
 * sub-path. Pages link relatively, so the bare prefix redirects to its slash form.
 * With `security` (--web.config.file), every request passes it before any route.
 */
export function createApp(deps: AppDeps, routePrefix = '', security?: WebSecurity): Hono {
  const root = new Hono(routePrefix === '' ? {} : { strict: false });
  // First of all: the prefix redirect and 404s are refused, and carry the headers, too.
  if (security) root.use('*', securityMiddleware(security));
  if (routePrefix !== '') {
    root.use(routePrefix, async (c, next) => {
      // c.req.path drops the trailing slash when strict is off; the raw URL keeps it.
      const url = new URL(c.req.url);
      if (url.pathname !== routePrefix) return next();
      return c.redirect(`${routePrefix}/${url.search}`, 308);
    });
  }
  root.route(routePrefix || '/', routes(deps));
  root.notFound((c) => c.text('not found\n', 404));
  // Here, not on the sub-apps: Hono wraps every handler of a sub-app that has an onError of
  // its own in a fresh compose() on each request.
  root.onError((err, c) => {
    // Hono's own answers (as its default handler gives them).
    if (err instanceof HTTPException) return err.getResponse();
    // Reaching here otherwise is a bug; the reason goes to the log, not to the caller.
    deps.logger.error({ err: err.message, path: c.req.path }, 'request failed');
    return c.text('internal error\n', 500);
  });
  return root;
}

function routes(deps: AppDeps): Hono {
  const app = new Hono();
  app.route('/', probeRoutes(deps));
  app.route('/', adminRoutes(deps));
  app.route('/', apiRoutes(deps));
  app.route('/', uiRoutes(deps));
  app.route('/', fleetRoutes(deps));
  app.route('/', assetRoutes());
  app.notFound((c) => c.text('not found\n', 404));
  return app;
}
