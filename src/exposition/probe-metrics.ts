import type { ProbeOutcome } from '../probe/run.js';
import { addCoreFamilies } from './core.js';
import { addOpenvpnFamilies } from '../vendors/openvpn/metrics.js';
import { addPaloaltoFamilies } from '../vendors/paloalto/metrics.js';
import { addStrongswanFamilies } from '../vendors/strongswan/metrics.js';
import { addWireguardFamilies } from '../vendors/wireguard/metrics.js';
import { MetricSet } from './metric-set.js';

/**
 * The first of each name. A gateway that reports a name twice (a conn listed twice, a
 * device bug) must not make the scrape invalid: the text format forbids repeated series.
 */
function uniqueByName<T extends { name: string }>(items: readonly T[]): T[] {
  const seen = new Set<string>();
  return items.filter((i) => !seen.has(i.name) && seen.add(i.name));
}

/** A fresh metric set per request, as blackbox_exporter does: no series outlives its probe. */
export function buildProbeMetrics(outcome: ProbeOutcome): MetricSet {
  const set = new MetricSet();
  set.family('probe_success', 'Whether the probe succeeded.', 'gauge', []).set({}, outcome.success ? 1 : 0);
  set.family('probe_duration_seconds', 'How long the probe took.', 'gauge', []).set({}, outcome.durationSeconds);
  const raw = outcome.snapshot;
  if (!raw) return set;
  const s = {
    ...raw,
    tunnels: uniqueByName(raw.tunnels),
    pools: uniqueByName(raw.pools),
    paloalto: raw.paloalto && { ...raw.paloalto, tunnels: uniqueByName(raw.paloalto.tunnels) },
    openvpn: raw.openvpn && { servers: uniqueByName(raw.openvpn.servers) },
    wireguard: raw.wireguard && { ...raw.wireguard, interfaces: uniqueByName(raw.wireguard.interfaces) },
  };
  addCoreFamilies(set, s);
  if (s.strongswan) addStrongswanFamilies(set, s.strongswan);
  if (s.openvpn) addOpenvpnFamilies(set, s.openvpn.servers);
  if (s.paloalto) addPaloaltoFamilies(set, s.paloalto);
  if (s.wireguard) addWireguardFamilies(set, s.wireguard);
  return set;
}
