import type { AllowList } from './allow-list.js';
import type { ProberDefinition } from '../probe/prober.js';

export interface ModuleConfig {
  name: string;
  prober: ProberDefinition;
  timeoutMs: number;
  /** Targets this module may connect to; undefined allows any (see README, "Who may ask"). */
  allowList?: AllowList;
  /** The prober's options, validated, secrets resolved to Secret objects. */
  options: unknown;
  /** The module as written, with inline secrets redacted: safe to show. */
  display: Record<string, unknown>;
}

export interface Config {
  file: string;
  modules: ReadonlyMap<string, ModuleConfig>;
}

/** Invalid configuration; the message names the file, the key path and the reason. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}
