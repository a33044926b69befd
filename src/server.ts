import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { ConfigReloader } from './config/reloader.js';
import type { Services } from './engine/services.js';
import { SelfMetrics } from './exposition/self-metrics.js';
import { PROBERS } from './probers/registry.js';
import { REVISION, VERSION } from './version.js';
import { createApp } from './web/app.js';
import { ProbeHistory } from './web/history.js';

export interface ExporterOptions {
  configFile: string;
  host?: string;
  port: number;
  timeoutOffsetSeconds: number;
  /** Probes kept for /history and /logs (default 100). */
  historyLimit?: number;
  logger: Logger;
  services: Services;
}

export interface RunningExporter {
  /** Base URL, e.g. http://127.0.0.1:9234 */
  url: string;
  config: ConfigReloader;
  close(): Promise<void>;
}

/** Loads the configuration (throws ConfigError if invalid) and starts serving. Used by main and by tests. */
export async function startExporter(opts: ExporterOptions): Promise<RunningExporter> {
  const metrics = new SelfMetrics({ version: VERSION, revision: REVISION }, opts.services.ssh);
  const config = await ConfigReloader.start(opts.configFile, PROBERS, opts.logger, metrics);
  const app = createApp({
    config,
    services: opts.services,
    metrics,
    logger: opts.logger,
    timeoutOffsetSeconds: opts.timeoutOffsetSeconds,
    version: VERSION,
    history: new ProbeHistory(opts.historyLimit ?? 100),
  });
  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: opts.port, hostname: opts.host }, () => resolve(s));
    s.once('error', reject);
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  opts.logger.info({ address: `${host}:${addr.port}`, modules: config.current.modules.size, version: VERSION }, 'listening');
  return {
    url: `http://${host === '[::]' || host === '0.0.0.0' ? '127.0.0.1' : host}:${addr.port}`,
    config,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive connections would hold close() open indefinitely.
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}
