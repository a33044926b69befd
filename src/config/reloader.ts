import type { Logger } from 'pino';
import { loadConfig } from './modules.js';
import type { Config, ProberSchema } from './config.js';
import type { SelfMetrics } from '../exposition/self-metrics.js';

/**
 * Holds the configuration in force. A reload that fails keeps the previous one,
 * logs why and shows in vpn_exporter_config_last_reload_successful, as Prometheus does.
 */
export class ConfigReloader<P extends ProberSchema = ProberSchema> {
  private config: Config<P>;
  private pending: Promise<string | undefined> | undefined;

  private constructor(
    initial: Config<P>,
    private readonly probers: ReadonlyMap<string, P>,
    private readonly log: Logger,
    private readonly metrics: SelfMetrics,
  ) {
    this.config = initial;
    metrics.reloadSuccess.set(1);
    metrics.reloadTimestamp.set(Date.now() / 1000);
  }

  /** Loads the file once; fails (throws ConfigError) if the initial configuration is invalid. */
  static async start<P extends ProberSchema>(
    file: string,
    probers: ReadonlyMap<string, P>,
    log: Logger,
    metrics: SelfMetrics,
  ): Promise<ConfigReloader<P>> {
    return new ConfigReloader(await loadConfig(file, probers), probers, log, metrics);
  }

  get current(): Config<P> {
    return this.config;
  }

  /** Re-reads the file; returns undefined on success or the reason it was rejected. */
  reload(): Promise<string | undefined> {
    // Concurrent SIGHUP and POST /-/reload share one read of the file.
    this.pending ??= this.doReload().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async doReload(): Promise<string | undefined> {
    try {
      this.config = await loadConfig(this.config.file, this.probers);
      this.metrics.reloadSuccess.set(1);
      this.metrics.reloadTimestamp.set(Date.now() / 1000);
      this.log.info({ file: this.config.file, modules: this.config.modules.size }, 'configuration reloaded');
      return undefined;
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      this.metrics.reloadSuccess.set(0);
      this.log.error({ file: this.config.file, err: reason }, 'configuration reload failed; keeping the previous configuration');
      return reason;
    }
  }
}
