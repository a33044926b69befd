import type { Logger } from '../log/logger.js';
import type { ConfigReloader } from '../config/reloader.js';
import type { SelfMetrics } from '../exposition/self-metrics.js';
import type { FleetStore } from '../probe/fleet.js';
import type { ProbeHistory } from '../probe/history.js';
import type { ProberDefinition } from '../probe/prober.js';
import type { ProbeService } from '../probe/service.js';

/** What the HTTP layer needs from the rest of the process. */
export interface AppDeps {
  /** Runs every probe: /probe, /api/probe, /sessions and /sessions.html alike. */
  probes: ProbeService;
  config: ConfigReloader<ProberDefinition>;
  metrics: SelfMetrics;
  logger: Logger;
  version: string;
  /** The probes the service ran, for /history and /logs. */
  history: ProbeHistory;
  /** The last result per (module, target, auth) of the last hour, for /fleet and /api/fleet. */
  fleet: FleetStore;
  /** Re-reads --web.config.file (resolves at once without one); rejects with a ConfigError saying why the old one stays. */
  reloadWebConfig(): Promise<void>;
}
