import { ProbeTimeoutError } from '../util/errors.js';
import type { FailureReason } from './failure.js';
import type { GatewaySnapshot } from '../model/snapshot.js';
import type { ProbeBudget } from './budget.js';

/** What one gateway fetch produced: shared by every probe that joined it or reads it later. */
export interface FetchOutcome {
  snapshot?: GatewaySnapshot;
  failure?: string;
  failureReason?: FailureReason;
  /** performance.now() when the fetch finished. */
  finishedAt: number;
  /** Which fetch it was (in the log of every probe it answered). */
  fetchId: number;
}

/** Recent outcomes kept for min_interval at most, across all targets (oldest dropped first). */
const MAX_RECENT = 10_000;

interface InFlight {
  id: number;
  promise: Promise<FetchOutcome>;
  /** Probes still waiting for it; when the last one gives up, the fetch is cancelled. */
  waiters: number;
  cancel: AbortController;
}

/**
 * One gateway fetch per (module, target) at a time, and optionally the last outcome for a
 * while: Prometheus HA pairs and people probing at the same moment then cost the gateway's
 * management plane one fetch. Each probe still has its own budget: a joiner stops waiting at
 * its own deadline, and the fetch is cancelled when its starter's deadline passes or when
 * every probe waiting for it has gone.
 */
export class FetchSharing {
  private readonly inFlight = new Map<string, InFlight>();
  private readonly recent = new Map<string, FetchOutcome>();
  private nextId = 1;

  /** The last outcome for `key` if it finished less than `maxAgeMs` ago. */
  recentOutcome(key: string, maxAgeMs: number): FetchOutcome | undefined {
    if (maxAgeMs <= 0) return undefined;
    const o = this.recent.get(key);
    if (!o) return undefined;
    if (performance.now() - o.finishedAt < maxAgeMs) return o;
    this.recent.delete(key);
    return undefined;
  }

  /**
   * Joins the fetch in flight for `key`, or starts one with `fetch`, which runs under a signal
   * that fires at the starter's deadline or when every waiter's budget has ended.
   * `keepMs` > 0 keeps the outcome for later probes (min_interval).
   */
  share(
    key: string,
    waiter: ProbeBudget,
    keepMs: number,
    fetch: (signal: AbortSignal, fetchId: number) => Promise<Omit<FetchOutcome, 'finishedAt' | 'fetchId'>>,
  ): { outcome: Promise<FetchOutcome>; joined: boolean; fetchId: number } {
    let flight = this.inFlight.get(key);
    const joined = flight !== undefined;
    if (!flight) {
      const cancel = new AbortController();
      const id = this.nextId++;
      const timer = setTimeout(() => cancel.abort(new ProbeTimeoutError()), Math.max(0, waiter.deadline - performance.now()));
      const started: InFlight = { id, waiters: 0, cancel, promise: Promise.resolve() as unknown as Promise<FetchOutcome> };
      started.promise = fetch(cancel.signal, id)
        .then((o): FetchOutcome => ({ snapshot: o.snapshot, failure: o.failure, failureReason: o.failureReason, finishedAt: performance.now(), fetchId: id }))
        .finally(() => {
          clearTimeout(timer);
          if (this.inFlight.get(key) === started) this.inFlight.delete(key);
        });
      started.promise.then(
        (o) => this.remember(key, o, keepMs),
        () => {},
      );
      this.inFlight.set(key, started);
      flight = started;
    }
    const f = flight;
    f.waiters++;
    const dispose = waiter.onEnd((reason) => {
      if (--f.waiters === 0) f.cancel.abort(reason);
    });
    f.promise.then(dispose, dispose);
    return { outcome: f.promise, joined, fetchId: f.id };
  }

  private remember(key: string, outcome: FetchOutcome, keepMs: number): void {
    if (keepMs <= 0) return;
    this.recent.delete(key);
    this.recent.set(key, outcome);
    const now = performance.now();
    // Expired entries go first, then the oldest, so the map stays bounded however many targets come and go.
    for (const [k, o] of this.recent) {
      if (this.recent.size <= MAX_RECENT && now - o.finishedAt < keepMs) break;
      this.recent.delete(k);
    }
  }
}
