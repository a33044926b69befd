import type { CapturedLog } from '../log/probe-log.js';
import type { FailureReason } from './failure.js';

export interface ProbeRecord {
  id: number;
  /** When the probe started (wall clock, ms since the epoch). */
  startedAt: number;
  module: string;
  prober: string;
  target: string;
  success: boolean;
  durationSeconds: number;
  /** Why it failed, for people. */
  failure?: string;
  /** Why it failed, from the documented set: what alerts and filters use. */
  failureReason?: FailureReason;
  /** Its own gateway fetch, one in flight it joined, or a recent one (min_interval). */
  source: 'fetched' | 'joined' | 'recent';
  /** Series (sample lines) in the probe's answer, under the module's detail level and user policy. */
  series: number;
  /** The probe's own log, the capturing log itself, so lines written while it winds down still show. */
  log: CapturedLog;
}

export type NewProbeRecord = Omit<ProbeRecord, 'id'>;

/**
 * The last probes, for people debugging a target from a browser. Bounded by a
 * count; when full, the oldest success goes first, so the failures someone came
 * to investigate outlive a stream of healthy scrapes (blackbox_exporter keeps
 * failed probes longer for the same reason).
 */
export class ProbeHistory {
  private readonly records: ProbeRecord[] = [];
  private nextId = 1;
  /** Successes among the records: with none, the oldest goes without a search. */
  private successes = 0;

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError('history limit must be a positive integer');
  }

  add(r: NewProbeRecord): ProbeRecord {
    // Field by field, not a spread: one object shape for every record, built at the cost of a literal.
    const stored: ProbeRecord = {
      id: this.nextId++,
      startedAt: r.startedAt,
      module: r.module,
      prober: r.prober,
      target: r.target,
      success: r.success,
      durationSeconds: r.durationSeconds,
      failure: r.failure,
      failureReason: r.failureReason,
      source: r.source,
      series: r.series,
      log: r.log,
    };
    if (this.records.length >= this.limit) {
      const oldestSuccess = this.successes > 0 ? this.records.findIndex((x) => x.success) : -1;
      const dropped = oldestSuccess > 0 ? this.records.splice(oldestSuccess, 1)[0] : this.records.shift();
      if (dropped?.success) this.successes--;
    }
    this.records.push(stored);
    if (stored.success) this.successes++;
    return stored;
  }

  get(id: number): ProbeRecord | undefined {
    return this.records.find((r) => r.id === id);
  }

  /** Newest first; `target` keeps those whose target contains it (case-insensitive). */
  list(target?: string): ProbeRecord[] {
    const needle = target?.toLowerCase();
    const kept = needle ? this.records.filter((r) => r.target.toLowerCase().includes(needle)) : this.records;
    return [...kept].reverse();
  }
}
