import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import type { Logger } from './log/logger.js';
import { ConfigReloader } from './config/reloader.js';
import { SelfMetrics } from './exposition/self-metrics.js';
import { DEFAULT_FLEET_MAX_ENTRIES, FleetStore } from './probe/fleet.js';
import { ProbeHistory } from './probe/history.js';
import { DEFAULT_PROBE_LIMITS, ProbeLimits } from './probe/limits.js';
import type { Services } from './probe/prober.js';
import { ProbeService } from './probe/service.js';
import { PROBERS } from './probers.js';
import { REVISION, VERSION } from './version.js';
import { createApp } from './web/app.js';
import { WebSecurity } from './web/security/web-security.js';

export interface ExporterOptions {
  configFile: string;
  host?: string;
  port: number;
  timeoutOffsetSeconds: number;
  /** Probes kept for /history and /logs (default 100). */
  historyLimit?: number;
  /** (module, target, auth) kept for the fleet page (default 10,000). */
  fleetMaxTargets?: number;
  /** "" or "/path": every route sits under it (--web.route-prefix). */
  routePrefix?: string;
  /** Probes running at once, overall (default 200). */
  maxConcurrency?: number;
  /** Probes running at once against one target (default 2). */
  maxPerTarget?: number;
  logger: Logger;
  services: Services;
  /** exporter-toolkit web configuration (TLS, basic auth, headers); undefined: plain HTTP, open. */
  webConfigFile?: string;
}

export interface RunningExporter {
  /** Base URL, e.g. http://127.0.0.1:9234 */
  url: string;
  config: ConfigReloader;
  /** Re-reads --web.config.file (SIGHUP); resolves at once without one; rejects with a ConfigError saying why the old one stays. */
  reloadWebConfig(): Promise<void>;
  close(): Promise<void>;
}

/** Idle keep-alive connections are kept this long: longer than any usual scrape interval. */
const KEEP_ALIVE_MS = 5 * 60 * 1000;

/** Loads the configuration (throws ConfigError if invalid) and starts serving. Used by main and by tests. */
export async function startExporter(opts: ExporterOptions): Promise<RunningExporter> {
  const web = opts.webConfigFile === undefined ? undefined : await WebSecurity.load(opts.webConfigFile, opts.logger);
  const limits = new ProbeLimits({
    maxConcurrency: opts.maxConcurrency ?? DEFAULT_PROBE_LIMITS.maxConcurrency,
    maxPerTarget: opts.maxPerTarget ?? DEFAULT_PROBE_LIMITS.maxPerTarget,
  });
  const metrics = new SelfMetrics({ version: VERSION, revision: REVISION }, { ssh: opts.services.ssh, probeQueue: () => limits.stats().queued });
  const config = await ConfigReloader.start(opts.configFile, PROBERS, opts.logger, metrics);
  const history = new ProbeHistory(opts.historyLimit ?? 100);
  const fleet = new FleetStore({ maxEntries: opts.fleetMaxTargets ?? DEFAULT_FLEET_MAX_ENTRIES });
  const probes = new ProbeService({
    config,
    services: opts.services,
    metrics,
    logger: opts.logger,
    history,
    limits,
    fleet,
    timeoutOffsetSeconds: opts.timeoutOffsetSeconds,
  });
  const reloadWebConfig = async () => web?.reload();
  const app = createApp({ probes, config, metrics, logger: opts.logger, version: VERSION, history, fleet, reloadWebConfig }, opts.routePrefix ?? '', web);
  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: opts.port, hostname: opts.host, ...web?.listenOptions() }, () => resolve(s));
    s.once('error', reject);
  });
  web?.attach(server);
  // Prometheus keeps idle connections for minutes (and blackbox_exporter's Go server never
  // times them out). Node's 5 s default would close every one between two 15 s scrapes:
  // a new TCP (and TLS) handshake per scrape, and a window where a scrape lands on a
  // socket being closed.
  const http = server as unknown as { keepAliveTimeout: number; headersTimeout: number };
  http.keepAliveTimeout = KEEP_ALIVE_MS;
  http.headersTimeout = Math.max(http.headersTimeout, KEEP_ALIVE_MS + 1000);
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  opts.logger.info(
    { address: `${host}:${addr.port}`, route_prefix: opts.routePrefix || '/', modules: config.current.modules.size, version: VERSION, ...web?.describe() },
    'listening',
  );
  return {
    url: `${web?.tls ? 'https' : 'http'}://${host === '[::]' || host === '0.0.0.0' ? '127.0.0.1' : host}:${addr.port}`,
    config,
    reloadWebConfig,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive connections would hold close() open indefinitely.
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}
