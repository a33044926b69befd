import { isAllowed } from '../config/allow-list.js';
import { moduleCredentials, type Config, type ModuleConfig } from '../config/config.js';
import type { ProberDefinition, Target } from './prober.js';
import { ProbeRefusal } from './refusal.js';
import { parseTarget } from './target.js';

/** A probe that may run: its module, target and time budget. */
export interface ProbeRequest {
  module: ModuleConfig<ProberDefinition>;
  target: Target;
  /** The module's prober options with the chosen auth's credentials in place. */
  options: unknown;
  /** The auth named by `?auth=` or the module's default; probes with different auths never share a fetch. */
  auth?: string;
  timeoutMs: number;
  /** `debug=true`: the answer is the probe's log, metrics and module, for people. */
  debug: boolean;
}

/** What the probe service reads of an HTTP request; nothing else of HTTP reaches it. */
export interface ProbeQuery {
  params: URLSearchParams;
  /** The X-Prometheus-Scrape-Timeout-Seconds header, if sent. */
  scrapeTimeoutSeconds?: string;
}

const MAX_PARAM_LENGTH = 300;

const bad = (reason: string) => new ProbeRefusal(400, reason);

/** One value: repeated or oversized parameters are refused, never guessed at. */
function single(params: URLSearchParams, name: string): string | undefined {
  const values = params.getAll(name);
  if (values.length > 1) throw bad(`parameter "${name}" is given ${values.length} times`);
  const v = values[0];
  if (v !== undefined && v.length > MAX_PARAM_LENGTH) throw bad(`parameter "${name}" is longer than ${MAX_PARAM_LENGTH} characters`);
  return v;
}

/**
 * The probe's time budget, as blackbox_exporter computes it: Prometheus' scrape timeout
 * less an offset (so the answer arrives before Prometheus gives up), capped by the
 * module's own timeout.
 */
export function probeTimeoutMs(moduleTimeoutMs: number, header: string | undefined, offsetSeconds: number): number {
  if (header === undefined || header === '') return moduleTimeoutMs;
  const seconds = Number(header);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw bad(`X-Prometheus-Scrape-Timeout-Seconds is not a positive number: ${JSON.stringify(header.slice(0, 40))}`);
  }
  const ms = (seconds - offsetSeconds) * 1000;
  return ms <= 0 ? moduleTimeoutMs : Math.min(moduleTimeoutMs, ms);
}

/**
 * Validates ?target=&module=[&debug=] against the configuration in force. Throws a
 * ProbeRefusal: 400 for a bad request, 403 for a target outside allowed_targets.
 */
export function parseProbeRequest(query: ProbeQuery, config: Config<ProberDefinition>, timeoutOffsetSeconds: number): ProbeRequest {
  // Every parameter is checked for repeats and length before any is interpreted.
  const moduleName = single(query.params, 'module');
  const rawTarget = single(query.params, 'target');
  const debug = single(query.params, 'debug');
  const authName = single(query.params, 'auth');
  if (rawTarget === undefined || rawTarget === '') throw bad('target parameter is missing');
  if (moduleName === undefined || moduleName === '') throw bad('module parameter is missing');
  if (debug !== undefined && !['true', 'false', ''].includes(debug)) throw bad('debug must be true or false');
  const module = config.modules.get(moduleName);
  if (!module) throw bad(`unknown module ${JSON.stringify(moduleName)}`);
  const target = parseTarget(rawTarget, module.defaultPort);
  if (!isAllowed(module.allowList, target.host, target.port)) {
    throw new ProbeRefusal(403, `target ${target.raw} is not in this module's allowed_targets`);
  }
  const { options, auth } = withAuth(module, config, authName || undefined);
  const timeoutMs = probeTimeoutMs(module.timeoutMs, query.scrapeTimeoutSeconds, timeoutOffsetSeconds);
  return { module, target, options, auth, timeoutMs, debug: debug === 'true' };
}

/**
 * The options a probe runs with: the module's, with the named auth's credentials in the
 * option of their kind. The name comes from the URL; the credentials never do.
 */
function withAuth(module: ModuleConfig<ProberDefinition>, config: Config<ProberDefinition>, name: string | undefined): { options: unknown; auth?: string } {
  if (name === undefined) return { options: module.options, auth: module.defaultAuth };
  const auth = config.auths.get(name);
  if (!auth) throw bad(`unknown auth ${JSON.stringify(name)}`);
  const { prober } = module;
  const takes = moduleCredentials(prober, module.options);
  if (takes !== auth.kind) {
    throw bad(`auth ${JSON.stringify(name)} holds ${auth.kind} credentials; module ${JSON.stringify(module.name)} (${prober.name}) takes ${takes ?? 'none'}`);
  }
  const options = { ...(module.options as Record<string, unknown>), [auth.kind]: auth.credentials };
  // The rule the loader applies to a module's own credentials holds for every auth it is sent with.
  const unsafe = prober.requiresAllowList?.(options);
  if (unsafe && !module.allowList)
    throw bad(`auth ${JSON.stringify(name)}: ${unsafe.replace(/^the module /, '')}, and module ${JSON.stringify(module.name)} has no allowed_targets`);
  return { options, auth: auth.name };
}
