import type { ProbeOutcome } from '../engine/run-probe.js';
import { addCoreFamilies } from './families/core.js';
import { addOpenvpnFamilies } from './families/openvpn.js';
import { addPaloaltoFamilies } from './families/paloalto.js';
import { addStrongswanFamilies } from './families/strongswan.js';
import { MetricSet } from './metric-set.js';

/** A fresh metric set per request, as blackbox_exporter does: no series outlives its probe. */
export function buildProbeMetrics(outcome: ProbeOutcome): MetricSet {
  const set = new MetricSet();
  set.family('probe_success', 'Whether the probe succeeded.', 'gauge', []).set({}, outcome.success ? 1 : 0);
  set.family('probe_duration_seconds', 'How long the probe took.', 'gauge', []).set({}, outcome.durationSeconds);
  const s = outcome.snapshot;
  if (!s) return set;
  addCoreFamilies(set, s);
  if (s.strongswan) addStrongswanFamilies(set, s.strongswan);
  if (s.openvpn) addOpenvpnFamilies(set, s.openvpn.servers);
  if (s.paloalto) addPaloaltoFamilies(set, s.paloalto);
  return set;
}
