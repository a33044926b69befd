import type { Context } from 'hono';
import type { ModuleConfig } from '../config/config.js';
import { parseTarget, type Target } from '../engine/target.js';
import { probeTimeoutMs } from '../engine/timeout.js';
import type { AppDeps } from './deps.js';

export interface ProbeParams {
  module: ModuleConfig;
  target: Target;
  timeoutMs: number;
  debug: boolean;
}

const MAX_PARAM_LENGTH = 300;

/** One value or a reason: repeated or oversized parameters are refused, never guessed at. */
function single(c: Context, name: string): string | undefined | { error: string } {
  const values = c.req.queries(name) ?? [];
  if (values.length > 1) return { error: `parameter "${name}" is given ${values.length} times` };
  const v = values[0];
  if (v !== undefined && v.length > MAX_PARAM_LENGTH) return { error: `parameter "${name}" is longer than ${MAX_PARAM_LENGTH} characters` };
  return v;
}

/** Validates ?target=&module=[&debug=] against the configuration in force: ProbeParams or a 400 reason. */
export function parseProbeRequest(c: Context, deps: AppDeps): ProbeParams | string {
  const moduleName = single(c, 'module');
  const rawTarget = single(c, 'target');
  const debug = single(c, 'debug');
  for (const v of [moduleName, rawTarget, debug]) if (typeof v === 'object') return v.error;
  if (rawTarget === undefined || rawTarget === '') return 'target parameter is missing';
  if (moduleName === undefined || moduleName === '') return 'module parameter is missing';
  if (debug !== undefined && !['true', 'false', ''].includes(debug as string)) return 'debug must be true or false';
  const module = deps.config.current.modules.get(moduleName as string);
  if (!module) return `unknown module ${JSON.stringify(moduleName)}`;
  const target = parseTarget(rawTarget as string, module.prober.defaultPort);
  if (typeof target === 'string') return target;
  const timeoutMs = probeTimeoutMs(module.timeoutMs, c.req.header('X-Prometheus-Scrape-Timeout-Seconds'), deps.timeoutOffsetSeconds);
  if (typeof timeoutMs === 'string') return timeoutMs;
  return { module, target, timeoutMs, debug: debug === 'true' };
}
