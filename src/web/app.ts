import { Hono } from 'hono';
import type { AppDeps } from './deps.js';
import { adminRoutes } from './routes/admin.js';
import { apiRoutes } from './routes/api.js';
import { probeRoutes } from './routes/probe.js';
import { uiRoutes } from './routes/ui.js';

export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  app.route('/', probeRoutes(deps));
  app.route('/', adminRoutes(deps));
  app.route('/', apiRoutes(deps));
  app.route('/', uiRoutes(deps));
  app.notFound((c) => c.text('not found\n', 404));
  app.onError((err, c) => {
    // Reaching here is a bug; the reason goes to the log, not to the caller.
    deps.logger.error({ err: err.message, path: c.req.path }, 'request failed');
    return c.text('internal error\n', 500);
  });
  return app;
}
