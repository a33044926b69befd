import type { Context } from 'hono';
import type { ModuleConfig } from '../config/config.js';
import { checkAllowed } from '../config/allow-list.js';
import { parseTarget, type Target } from './target.js';
import { probeTimeoutMs } from './timeout.js';
import type { AppDeps } from '../web/deps.js';

/**
 * Why a request is refused before any connection: 400 for a bad request, 403 for a target
 * outside the module's list, 503 when the probe caps left no slot within its deadline (executeProbe).
 */
export interface Rejection {
  status: 400 | 403 | 503;
  reason: string;
}

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

/**
 * Validates ?target=&module=[&debug=] against the configuration in force. A refusal is
 * counted as a "rejected" probe and returned for the caller to render in its own format.
 */
export function parseProbeRequest(c: Context, deps: AppDeps): ProbeParams | Rejection {
  const result = validate(c, deps);
  if (typeof result === 'string' || 'status' in result) {
    deps.metrics.probes.inc({ module: '', result: 'rejected' });
    return typeof result === 'string' ? { status: 400, reason: result } : result;
  }
  return result;
}

function validate(c: Context, deps: AppDeps): ProbeParams | Rejection | string {
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
  const refused = checkAllowed(module.allowList, target);
  if (refused) return { status: 403, reason: refused };
  const timeoutMs = probeTimeoutMs(module.timeoutMs, c.req.header('X-Prometheus-Scrape-Timeout-Seconds'), deps.timeoutOffsetSeconds);
  if (typeof timeoutMs === 'string') return timeoutMs;
  return { module, target, timeoutMs, debug: debug === 'true' };
}
