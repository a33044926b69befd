import type { Logger } from 'pino';
import type { ConfigReloader } from '../config/reloader.js';
import type { ProbeLimits } from '../probe/limits.js';
import type { Services } from '../probe/services.js';
import type { SelfMetrics } from '../exposition/self-metrics.js';
import type { ProbeHistory } from '../probe/history.js';

/** What the HTTP layer needs from the rest of the process. */
export interface AppDeps {
  config: ConfigReloader;
  services: Services;
  metrics: SelfMetrics;
  logger: Logger;
  /** Subtracted from Prometheus' scrape timeout, like blackbox_exporter's --timeout-offset. */
  timeoutOffsetSeconds: number;
  version: string;
  /** Every probe run through executeProbe, for /history and /logs. */
  history: ProbeHistory;
  /** Caps on probes running at once, globally and per target (executeProbe waits for a slot). */
  limits: ProbeLimits;
  /** Re-reads --web.config.file (resolves at once without one); rejects with a ConfigError saying why the old one stays. */
  reloadWebConfig(): Promise<void>;
}
