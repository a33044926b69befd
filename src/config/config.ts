import type { z } from 'zod';
import type { AllowList } from './allow-list.js';
import type { ExpositionPolicy } from '../exposition/policy.js';
import type { Auth, CredentialKind } from './auths.js';

/**
 * What the loader needs to know of a prober to validate a module. The probe service's
 * ProberDefinition extends it; the config layer never sees how a probe runs.
 */
export interface ProberSchema<Schema extends z.ZodType = z.ZodType> {
  name: string;
  defaultPort: number;
  /** Where the default port depends on the options (openvpn-mgmt: 22 over SSH, else its TCP port). */
  defaultPortFor?(options: z.output<Schema>): number;
  optionsSchema: Schema;
  /** The kind of credentials it takes in the option of that name (`ssh`), so `auths:` can supply them. */
  credentials?: CredentialKind;
  /** Where it depends on the module (openvpn-mgmt: ssh to a socket, none over TCP); else `credentials`. */
  credentialsFor?(options: z.output<Schema>): CredentialKind | undefined;
  /**
   * Why these options make the module unsafe to point at arbitrary targets (so the
   * configuration must name allowed_targets), or undefined.
   */
  requiresAllowList?(options: z.output<Schema>): string | undefined;
}

/** The kind of credentials a module takes (so which auths fit it), given its validated options. */
export function moduleCredentials(prober: ProberSchema, options: unknown): CredentialKind | undefined {
  return prober.credentialsFor ? prober.credentialsFor(options) : prober.credentials;
}

export interface ModuleConfig<P extends ProberSchema = ProberSchema> {
  name: string;
  prober: P;
  timeoutMs: number;
  /** The port of a target without one (and of allowed_targets entries without one). */
  defaultPort: number;
  /** A probe within this long of the last fetch is answered from it (0: off). */
  minIntervalMs: number;
  /** Detail level, user labels and max_users: what a probe's answer may hold. */
  exposition: ExpositionPolicy;
  /** The auth a request without `?auth=` uses; its credentials are already in `options`. */
  defaultAuth?: string;
  /** Targets this module may connect to; undefined allows any (see README, "Who may ask"). */
  allowList?: AllowList;
  /** The prober's options, validated, secrets resolved to Secret objects. */
  options: unknown;
  /** The module as written, with inline secrets redacted: safe to show. */
  display: Record<string, unknown>;
}

export interface Config<P extends ProberSchema = ProberSchema> {
  file: string;
  modules: ReadonlyMap<string, ModuleConfig<P>>;
  /** Named credential sets (`auths:`), chosen per request with `?auth=`. */
  auths: ReadonlyMap<string, Auth>;
}

/** Invalid configuration; the message names the file, the key path and the reason. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}
