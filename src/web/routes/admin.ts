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
  // The same as SIGHUP: both files, so an operator never has to know which one a change needs.
  app.post('/-/reload', async (c) => {
    const [modules, web] = await Promise.allSettled([deps.config.reload(), deps.reloadWebConfig()]);
    const failures = [
      ...(modules.status === 'fulfilled' ? [] : [`failed to reload config: ${reason(modules.reason)}`]),
      ...(web.status === 'fulfilled' ? [] : [`failed to reload web config: ${reason(web.reason)}`]),
    ];
    if (failures.length > 0) return c.text(`${failures.join('\n')}\n`, 500);
    return c.text('configuration reloaded\n');
  });
  return app;
}

/** A reload rejects with a ConfigError whose message is the reason, meant for the operator. */
function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
