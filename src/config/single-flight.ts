import { ConfigError } from './config.js';

/**
 * A reload that runs once at a time: calls made while one is running share it, so a
 * SIGHUP and a POST /-/reload arriving together read the file once and agree on the
 * outcome. The returned function resolves when the new configuration is in force and
 * rejects with a ConfigError whose message is the reason it was refused.
 */
export function singleFlightReload(reload: () => Promise<void>): () => Promise<void> {
  let pending: Promise<void> | undefined;
  const run = async (): Promise<void> => {
    try {
      await reload();
    } catch (err) {
      throw err instanceof ConfigError ? err : new ConfigError(err instanceof Error ? err.message : String(err));
    }
  };
  return () => {
    // Cleared in a later tick, never before `pending` is set, however reload() fails.
    pending ??= run().finally(() => {
      pending = undefined;
    });
    return pending;
  };
}
