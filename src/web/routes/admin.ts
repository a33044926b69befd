import { Hono } from 'hono';
import type { AppDeps } from '../deps.js';

/** The exporter's own endpoints: its metrics, liveness, readiness and reload. */
export function adminRoutes(deps: AppDeps): Hono {
  const app = new Hono();
  app.get('/metrics', async (c) => {
    const text = await deps.metrics.registry.metrics();
    return c.body(text, 200, { 'Content-Type': deps.metrics.registry.contentType });
  });
  app.get('/-/healthy', (c) => c.text('Healthy\n'));
  app.get('/-/ready', (c) => c.text('Ready\n'));
  app.post('/-/reload', async (c) => {
    const failure = await deps.config.reload();
    if (failure !== undefined) return c.text(`failed to reload config: ${failure}\n`, 500);
    return c.text('configuration reloaded\n');
  });
  return app;
}
