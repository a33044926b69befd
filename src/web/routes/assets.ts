import { Hono, type Context } from 'hono';
import { clientScript } from '../client-bundle.js';
import { FAVICON_SVG } from '../pages/favicon.js';
import { STYLESHEET } from '../pages/styles.js';

function asset(c: Context, body: string, type: string): Response {
  return c.body(body, 200, { 'Content-Type': type, 'Cache-Control': 'max-age=300', 'X-Content-Type-Options': 'nosniff' });
}

/** What the pages load from the exporter itself (pages/layout.ts), so their policy can refuse anything inline or remote. */
export function assetRoutes(): Hono {
  const app = new Hono();
  app.get('/assets/ui.css', (c) => asset(c, STYLESHEET, 'text/css; charset=utf-8'));
  app.get('/assets/ui.js', async (c) => asset(c, await clientScript(), 'text/javascript; charset=utf-8'));
  app.get('/assets/favicon.svg', (c) => asset(c, FAVICON_SVG, 'image/svg+xml'));
  return app;
}
