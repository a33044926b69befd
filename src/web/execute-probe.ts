import type { Context } from 'hono';
import { CapturingProbeLog } from '../log/probe-log.js';
import { runProbe, type ProbeOutcome } from '../engine/run-probe.js';
import type { AppDeps } from './deps.js';
import type { ProbeParams } from './probe-request.js';

export interface ExecutedProbe {
  params: ProbeParams;
  outcome: ProbeOutcome;
  log: CapturingProbeLog;
  /** The probe's id in the history (/logs?id=). */
  id: number;
}

/**
 * Runs one probe for an HTTP request: its deadline and the client's disconnect
 * both cancel it, and the exporter's own metrics count it.
 */
export async function executeProbe(c: Context, deps: AppDeps, params: ProbeParams): Promise<ExecutedProbe> {
  const { module, target, timeoutMs } = params;
  const log = new CapturingProbeLog(deps.logger.child({ module: module.name, target: target.raw }));
  const signal = AbortSignal.any([AbortSignal.timeout(timeoutMs), c.req.raw.signal]);
  log.debug('probe budget', { timeout_seconds: timeoutMs / 1000 });
  const startedAt = Date.now();
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
  }
}
