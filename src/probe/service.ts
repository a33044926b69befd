import type { Context } from 'hono';
import { onAbort } from '../util/abort.js';
import { AbortedError } from '../util/errors.js';
import { CapturingProbeLog } from '../log/probe-log.js';
import { runProbe, type ProbeOutcome } from './run.js';
import type { AppDeps } from '../web/deps.js';
import type { ProbeParams, Rejection } from './request.js';

export interface ExecutedProbe {
  params: ProbeParams;
  outcome: ProbeOutcome;
  log: CapturingProbeLog;
  /** The probe's id in the history (/logs?id=). */
  id: number;
}

/**
 * Runs one probe for an HTTP request: its deadline and the client's disconnect
 * both cancel it, and the exporter's own metrics count it. It first waits for a
 * slot under the probe caps (deps.limits), within its own deadline; a probe that
 * gets none is a 503 Rejection and never connects to its target.
 */
export async function executeProbe(c: Context, deps: AppDeps, params: ProbeParams): Promise<ExecutedProbe | Rejection> {
  const { module, target, timeoutMs } = params;
  const log = new CapturingProbeLog(deps.logger.child({ module: module.name, target: target.raw }));
  const deadline = performance.now() + timeoutMs;
  // Not AbortSignal.timeout(): held only by AbortSignal.any(), Node 20 may garbage-collect it
  // before it fires (nodejs/node#57736, fixed in Node 24) and the probe then outlives its
  // deadline, forever against a silent gateway. This timer holds the controller until it fires.
  const cancel = new AbortController();
  const timer = setTimeout(() => cancel.abort(new DOMException('probe timed out', 'TimeoutError')), timeoutMs);
  // The server aborts the request with its own wording ("aborted"); say what happened instead.
  const started = performance.now();
  const disposeClient = onAbort(c.req.raw.signal, () =>
    cancel.abort(new AbortedError(`the HTTP client went away after ${((performance.now() - started) / 1000).toFixed(1)}s; probe cancelled`)),
  );
  try {
    return await runWithin(deps, params, log, cancel.signal, deadline);
  } finally {
    clearTimeout(timer);
    disposeClient();
  }
}

/** executeProbe's body, under the signal that carries both the deadline and the client's disconnect. */
async function runWithin(
  deps: AppDeps,
  params: ProbeParams,
  log: CapturingProbeLog,
  signal: AbortSignal,
  deadline: number,
): Promise<ExecutedProbe | Rejection> {
  const { module, target, timeoutMs } = params;
  log.debug('probe budget', { timeout_seconds: timeoutMs / 1000 });
  const startedAt = Date.now();
  const slot = await deps.limits.acquire(target, signal, deadline);
  if ('throttled' in slot) {
    // Counted as result="throttled", not "rejected": "rejected" is a request that was wrong
    // (400/403, before any module is known); "throttled" is a valid probe the exporter had no
    // capacity for, by module, which calls for higher caps or a look at a stuck gateway.
    deps.metrics.probes.inc({ module: module.name, result: 'throttled' });
    log.warn('probe throttled', { reason: slot.reason });
    return { status: 503, reason: slot.reason };
  }
  if (slot.waitedMs >= 1) log.debug('probe slot granted', { waited_seconds: Number((slot.waitedMs / 1000).toFixed(3)) });
  deps.metrics.inFlight.inc();
  try {
    const outcome = await runProbe({ module, target, signal, log, services: deps.services });
    deps.metrics.probes.inc({ module: module.name, result: outcome.success ? 'success' : 'failure' });
    deps.metrics.probeDuration.observe({ module: module.name }, outcome.durationSeconds);
    const { id } = deps.history.add({
      startedAt,
      module: module.name,
      prober: module.prober.name,
      target: target.raw,
      success: outcome.success,
      durationSeconds: outcome.durationSeconds,
      failure: outcome.failure,
      log: log.entries,
    });
    return { params, outcome, log, id };
  } finally {
    deps.metrics.inFlight.dec();
    slot.release();
  }
}
