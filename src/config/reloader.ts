import type { Logger } from '../log/logger.js';
import { loadConfig } from './modules.js';
import { singleFlightReload } from './single-flight.js';
import type { Config, ProberSchema } from './config.js';
import type { SelfMetrics } from '../exposition/self-metrics.js';

/**
 * Holds the configuration in force. A reload that fails keeps the previous one,
 * logs why and shows in vpn_exporter_config_last_reload_successful, as Prometheus does.
 */
export class ConfigReloader<P extends ProberSchema = ProberSchema> {
  private config: Config<P>;

  /**
   * Re-reads the file. Resolves once the new configuration is in force; rejects with a
   * ConfigError (the reason) when the file was refused and the previous one stays.
   */
  readonly reload = singleFlightReload(() => this.doReload());

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
  static async start<P extends ProberSchema>(file: string, probers: ReadonlyMap<string, P>, log: Logger, metrics: SelfMetrics): Promise<ConfigReloader<P>> {
    return new ConfigReloader(await loadConfig(file, probers), probers, log, metrics);
  }

  get current(): Config<P> {
    return this.config;
  }

  private async doReload(): Promise<void> {
    try {
      this.config = await loadConfig(this.config.file, this.probers);
    } catch (err) {
      this.metrics.reloadSuccess.set(0);
      this.log.error(
        { file: this.config.file, err: err instanceof Error ? err.message : String(err) },
        'configuration reload failed; keeping the previous configuration',
      );
      throw err;
    }
    this.metrics.reloadSuccess.set(1);
    this.metrics.reloadTimestamp.set(Date.now() / 1000);
    this.log.info({ file: this.config.file, modules: this.config.modules.size }, 'configuration reloaded');
  }
}
