import type { Logger } from '../log/logger.js';
import type { Config } from '../config/config.js';
import type { MetricSet } from '../exposition/metric-set.js';
import { protectUsers } from '../exposition/privacy.js';
import { buildProbeMetrics } from '../exposition/probe-metrics.js';
import type { SelfMetrics } from '../exposition/self-metrics.js';
import { CapturingProbeLog } from '../log/probe-log.js';
import type { GatewaySnapshot } from '../model/snapshot.js';
import { onAbort, throwIfAborted } from '../util/abort.js';
import { ProbeError, errorMessage } from '../util/errors.js';
import { ProbeBudget, type BudgetListener, type OnClientGone } from './budget.js';
import type { ProbeHistory, ProbeRecord } from './history.js';
import { targetKey, type ProbeLimits } from './limits.js';
import type { ProberDefinition, Services } from './prober.js';
import { classifyFailure, type FailureReason } from './failure.js';
import type { FleetStore } from './fleet.js';
import { ProbeRefusal } from './refusal.js';
import { FetchSharing } from './sharing.js';
import { parseProbeRequest, type ProbeQuery, type ProbeRequest } from './request.js';

/** One probe, as every route renders it: the history record, the request, its metrics, and the snapshot of a success. */
export interface ProbeResult extends ProbeRecord {
  request: ProbeRequest;
  /** The probe's answer to Prometheus, under the module's detail level and user policy. */
  metrics: MetricSet;
  /** As the module's user_labels lets it be shown: hashed or dropped names never leave the fetch in the clear. */
  snapshot?: GatewaySnapshot;
  /** How old the answer is, for one read from a recent fetch (min_interval). */
  ageSeconds?: number;
}

export interface ProbeServiceOptions {
  /** The configuration in force (a reload swaps it between probes). */
  config: { readonly current: Config<ProberDefinition> };
  services: Services;
  metrics: SelfMetrics;
  logger: Logger;
  history: ProbeHistory;
  limits: ProbeLimits;
  /** The fleet page's last result per (module, target, auth); fed here, from the probes that run anyway. */
  fleet?: FleetStore;
  /** Subtracted from Prometheus' scrape timeout, like blackbox_exporter's --timeout-offset. */
  timeoutOffsetSeconds: number;
}

/**
 * The probe engine, HTTP-agnostic: a query becomes a ProbeRequest (or a ProbeRefusal), and
 * a request runs under one budget (its deadline and its client's disconnect), waits for a
 * slot under the probe caps, runs its prober, and lands in the history and the exporter's
 * own metrics. Failures at this edge are thrown ProbeRefusals; a probe that ran and failed
 * is a result with success false.
 */
export class ProbeService {
  private readonly sharing = new FetchSharing();

  constructor(private readonly o: ProbeServiceOptions) {}

  /** Validates a query against the configuration in force; a refusal counts as a "rejected" probe. */
  parse(query: ProbeQuery): ProbeRequest {
    try {
      return parseProbeRequest(query, this.o.config.current, this.o.timeoutOffsetSeconds);
    } catch (err) {
      if (err instanceof ProbeRefusal) this.o.metrics.probes.inc({ module: '', result: 'rejected' });
      throw err;
    }
  }

  /**
   * Runs one probe; `onClientGone` tells when whoever asked goes away. Throws a 503
   * ProbeRefusal when throttled. Probes of one (module, target) at the same moment share
   * one gateway fetch, and with the module's min_interval a probe may be answered from the
   * last one (see FetchSharing).
   */
  async run(request: ProbeRequest, onClientGone: OnClientGone): Promise<ProbeResult> {
    const { module, target, timeoutMs } = request;
    const { metrics } = this.o;
    const log = new CapturingProbeLog(this.o.logger.child({ module: module.name, target: target.raw }));
    const budget = new ProbeBudget(timeoutMs, onClientGone);
    try {
      log.debug('probe budget', { timeout_seconds: timeoutMs / 1000 });
      const startedAt = Date.now();
      const started = performance.now();
      const gateway = targetKey(target);
      const key = `${module.name}\0${gateway}\0${request.auth ?? ''}`;
      let source: ProbeSource = 'recent';
      let outcome = this.sharing.recentOutcome(key, module.minIntervalMs);
      if (outcome) {
        log.info('answered from a recent fetch (min_interval)', { fetch: outcome.fetchId, age_seconds: secondsSince(outcome.finishedAt) });
        metrics.probesShared.inc({ module: module.name, source });
      } else {
        const shared = this.sharing.share(key, budget, module.minIntervalMs, (signal, fetchId) => this.fetch(request, signal, budget.deadline, log, fetchId));
        source = shared.joined ? 'joined' : 'fetched';
        if (shared.joined) {
          log.info('joined a fetch of this module and target already in flight', { fetch: shared.fetchId });
          metrics.probesShared.inc({ module: module.name, source });
        }
        outcome = await settleByDeadline(shared.outcome, (listener) => budget.onEnd(listener)).catch((err: unknown) => {
          if (err instanceof ProbeRefusal) {
            // "throttled", not "rejected": a valid probe the exporter had no capacity for, by
            // module, which calls for higher caps or a look at a stuck gateway.
            metrics.probes.inc({ module: module.name, result: 'throttled' });
            log.warn('probe throttled', { reason: err.message });
            throw err;
          }
          // Only a joiner gets here: its own budget ran out before the shared fetch finished.
          return { ...failed(err), finishedAt: performance.now(), fetchId: shared.fetchId };
        });
      }
      const durationSeconds = (performance.now() - started) / 1000;
      const success = outcome.snapshot !== undefined;
      const ageSeconds = source === 'recent' ? secondsSince(outcome.finishedAt) : undefined;
      const probeMetrics = buildProbeMetrics(
        { success, durationSeconds, snapshot: outcome.snapshot, failureReason: outcome.failureReason, ageSeconds },
        module.prober.addVendorFamilies,
        module.exposition,
      );
      const series = probeMetrics.seriesCount;
      metrics.probeSeries.observe({ module: module.name }, series);
      if (outcome.snapshot) {
        const { tunnels, sessions } = outcome.snapshot;
        log.info('probe succeeded', {
          duration_seconds: Number(durationSeconds.toFixed(4)),
          tunnels: tunnels.length,
          sessions: sessions.length,
          series,
          detail: module.exposition.detail,
        });
      } else {
        log.error('probe failed', { reason: outcome.failure, kind: outcome.failureReason, duration_seconds: Number(durationSeconds.toFixed(4)), series });
        metrics.probeFailures.inc({ module: module.name, reason: outcome.failureReason ?? 'other' });
      }
      metrics.probes.inc({ module: module.name, result: success ? 'success' : 'failure' });
      metrics.probeDuration.observe({ module: module.name }, durationSeconds);
      const record = this.o.history.add({
        startedAt,
        module: module.name,
        prober: module.prober.name,
        target: target.raw,
        success,
        durationSeconds,
        failure: outcome.failure,
        failureReason: outcome.failureReason,
        source,
        series,
        log,
      });
      this.o.fleet?.record({ ...record, targetKey: gateway, auth: request.auth, snapshot: outcome.snapshot });
      return { ...record, request, metrics: probeMetrics, snapshot: outcome.snapshot, ageSeconds };
    } finally {
      budget.dispose();
    }
  }

  /** The gateway fetch behind one or more probes: a slot under the limits, then the prober. */
  private async fetch(request: ProbeRequest, signal: AbortSignal, deadline: number, log: CapturingProbeLog, fetchId: number) {
    const { metrics } = this.o;
    const slot = await this.o.limits.acquire(request.target, { signal, deadline });
    if (slot.waitedMs >= 1) log.debug('probe slot granted', { waited_seconds: Number((slot.waitedMs / 1000).toFixed(3)) });
    metrics.inFlight.inc();
    try {
      log.debug('gateway fetch', { fetch: fetchId });
      const fetched = await probeOnce(request, signal, log, this.o.services);
      if (!fetched.snapshot) return fetched;
      // Before the result is shared, kept for min_interval, or rendered anywhere.
      const { userLabels, hashUser } = request.module.exposition;
      return { snapshot: protectUsers(fetched.snapshot, userLabels, hashUser) };
    } finally {
      metrics.inFlight.dec();
      slot.release();
    }
  }
}

/** How a probe got its answer: its own gateway fetch, one in flight it joined, or a recent one (min_interval). */
export type ProbeSource = 'fetched' | 'joined' | 'recent';

const secondsSince = (t: number) => Number(((performance.now() - t) / 1000).toFixed(3));

/** A failure outcome: the reason for people and its kind from the documented set. */
function failed(err: unknown): { failure: string; failureReason: FailureReason } {
  // A ProbeError carries a reason meant for people; anything else is our bug and says so.
  return { failure: err instanceof ProbeError ? err.message : `internal error: ${errorMessage(err)}`, failureReason: classifyFailure(err) };
}

/** The prober's snapshot, or the reason it has none: a prober's throw never escapes a probe. */
async function probeOnce(
  { module, target, options }: ProbeRequest,
  signal: AbortSignal,
  log: CapturingProbeLog,
  services: Services,
): Promise<
  { snapshot: GatewaySnapshot; failure?: undefined; failureReason?: undefined } | { snapshot?: undefined; failure: string; failureReason: FailureReason }
> {
  // Debug: the outcome line (succeeded or failed) is the one a fleet's log needs per probe; this
  // one doubled the log's volume and its cost per probe (a synchronous write each).
  log.debug('probe started', { prober: module.prober.name, host: target.host, port: target.port });
  try {
    throwIfAborted(signal);
    const snapshot = await settleByDeadline(module.prober.probe({ target, options, signal, log, services }), (listener) => onAbort(signal, listener));
    return { snapshot };
  } catch (err) {
    return failed(err);
  }
}

/**
 * The prober's promise, but settled by the deadline even if the prober ignores its signal,
 * so a probe never outlives its budget. The prober has until the next turn of the event
 * loop after the abort to fail in its own, more specific words ("waiting for the first CLI
 * prompt: probe timed out"); only then does the bare abort reason win.
 */
function settleByDeadline<T>(work: Promise<T>, onEnd: (listener: BudgetListener) => () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const dispose = onEnd((reason) => setImmediate(() => reject(reason)));
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
