import type { Logger } from 'pino';
import { loadConfig } from './modules.js';
import { singleFlightReload } from './single-flight.js';
import type { Config } from './config.js';
import type { ProberDefinition } from '../probe/prober.js';
import type { SelfMetrics } from '../exposition/self-metrics.js';

/**
 * Holds the configuration in force. A reload that fails keeps the previous one,
 * logs why and shows in vpn_exporter_config_last_reload_successful, as Prometheus does.
 */
export class ConfigReloader {
  private config: Config;

  /**
   * Re-reads the file. Resolves once the new configuration is in force; rejects with a
   * ConfigError (the reason) when the file was refused and the previous one stays.
   */
  readonly reload = singleFlightReload(() => this.doReload());

  private constructor(
    initial: Config,
    private readonly probers: ReadonlyMap<string, ProberDefinition>,
    private readonly log: Logger,
    private readonly metrics: SelfMetrics,
  ) {
    this.config = initial;
    metrics.reloadSuccess.set(1);
    metrics.reloadTimestamp.set(Date.now() / 1000);
  }

  /** Loads the file once; fails (throws ConfigError) if the initial configuration is invalid. */
  static async start(
    file: string,
    probers: ReadonlyMap<string, ProberDefinition>,
    log: Logger,
    metrics: SelfMetrics,
  ): Promise<ConfigReloader> {
    return new ConfigReloader(await loadConfig(file, probers), probers, log, metrics);
  }

  get current(): Config {
    return this.config;
  }

  private async doReload(): Promise<void> {
    try {
      this.config = await loadConfig(this.config.file, this.probers);
    } catch (err) {
      this.metrics.reloadSuccess.set(0);
      this.log.error({ file: this.config.file, err: err instanceof Error ? err.message : String(err) }, 'configuration reload failed; keeping the previous configuration');
      throw err;
    }
    this.metrics.reloadSuccess.set(1);
    this.metrics.reloadTimestamp.set(Date.now() / 1000);
    this.log.info({ file: this.config.file, modules: this.config.modules.size }, 'configuration reloaded');
  }
}
