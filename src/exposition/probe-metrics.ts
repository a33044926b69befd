import type { GatewaySnapshot } from '../model/snapshot.js';
import { addCoreFamilies } from './core.js';
import { uniqueByName } from './family.js';
import { MetricSet } from './metric-set.js';
import { FULL_DETAIL, type ExpositionPolicy } from './policy.js';

/** What a probe's answer is built from. */
export interface ProbeOutcome {
  success: boolean;
  durationSeconds: number;
  snapshot?: GatewaySnapshot;
  /** A failed probe's reason from the documented set (probe/failure.ts). */
  failureReason?: string;
  /** Set when the answer is a recent fetch's, not this probe's own (min_interval). */
  ageSeconds?: number;
}

/** A vendor's families beside the core one (each prober names its vendor's). */
export type VendorFamilies = (set: MetricSet, snapshot: GatewaySnapshot) => void;

/** A fresh metric set per request, as blackbox_exporter does: no series outlives its probe. */
export function buildProbeMetrics(outcome: ProbeOutcome, addVendorFamilies?: VendorFamilies, policy: ExpositionPolicy = FULL_DETAIL): MetricSet {
  const set = new MetricSet(policy);
  set.family('probe_success', 'Whether the probe succeeded.', 'gauge', []).set({}, outcome.success ? 1 : 0);
  set.family('probe_duration_seconds', 'How long the probe took.', 'gauge', []).set({}, outcome.durationSeconds);
  if (!outcome.success && outcome.failureReason !== undefined) {
    set
      .family('probe_failure_info', 'Why the probe failed, as one reason from a documented set; the value is always 1.', 'gauge', ['reason'])
      .set({ reason: outcome.failureReason }, 1);
  }
  if (outcome.ageSeconds !== undefined) {
    set
      .family('probe_result_age_seconds', "Age of the answer when it is a recent fetch's (the module's min_interval), not this probe's own.", 'gauge', [])
      .set({}, outcome.ageSeconds);
  }
  const raw = outcome.snapshot;
  if (!raw) return set;
  addCoreFamilies(set, { ...raw, tunnels: uniqueByName(raw.tunnels), pools: uniqueByName(raw.pools) });
  addVendorFamilies?.(set, raw);
  return set;
}
