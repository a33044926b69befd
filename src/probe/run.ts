import type { ModuleConfig } from '../config/config.js';
import type { CapturingProbeLog } from '../log/probe-log.js';
import type { GatewaySnapshot } from '../model/snapshot.js';
import { onAbort, throwIfAborted } from '../util/abort.js';
import { ProbeError, errorMessage } from '../util/errors.js';
import type { Services } from './services.js';
import type { Target } from './target.js';

export interface ProbeOutcome {
  success: boolean;
  durationSeconds: number;
  snapshot?: GatewaySnapshot;
  /** Why the probe failed, for people (logs, debug output, the UI). */
  failure?: string;
}

export interface ProbeRequest {
  module: ModuleConfig;
  target: Target;
  signal: AbortSignal;
  log: CapturingProbeLog;
  services: Services;
}

/** Settles when the signal fires even if the work ignores it, so a probe never outlives its deadline. */
function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    // One tick later than the work's own abort handling, so a prober that names the step it
    // was stuck on ("waiting for the first CLI prompt: probe timed out") is the one heard.
    const dispose = onAbort(signal, (reason) => setImmediate(() => reject(reason)));
    work.then(
      (v) => {
        dispose();
        resolve(v);
      },
      (e: unknown) => {
        dispose();
        reject(e);
      },
    );
  });
}

export async function runProbe({ module, target, signal, log, services }: ProbeRequest): Promise<ProbeOutcome> {
  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;
  log.info('probe started', { prober: module.prober.name, host: target.host, port: target.port });
  try {
    throwIfAborted(signal);
    const snapshot = await raceAbort(
      module.prober.probe({ target, options: module.options, signal, log, services }),
      signal,
    );
    const durationSeconds = elapsed();
    log.info('probe succeeded', {
      duration_seconds: Number(durationSeconds.toFixed(4)),
      tunnels: snapshot.tunnels.length,
      sessions: snapshot.sessions.length,
    });
    return { success: true, durationSeconds, snapshot };
  } catch (err) {
    const durationSeconds = elapsed();
    // A ProbeError carries a reason meant for people; anything else is our bug and says so.
    const failure = err instanceof ProbeError ? err.message : `internal error: ${errorMessage(err)}`;
    log.error('probe failed', { reason: failure, duration_seconds: Number(durationSeconds.toFixed(4)) });
    return { success: false, durationSeconds, failure };
  }
}
