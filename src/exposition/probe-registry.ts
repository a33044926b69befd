import { Gauge, Registry } from 'prom-client';
import type { ProbeOutcome } from '../engine/run-probe.js';
import { addCoreFamilies } from './families/core.js';
import { addOpenvpnFamilies } from './families/openvpn.js';
import { addPaloaltoFamilies } from './families/paloalto.js';
import { addStrongswanFamilies } from './families/strongswan.js';

/** A fresh registry per request, as blackbox_exporter does: no series outlives its probe. */
export function buildProbeRegistry(outcome: ProbeOutcome): Registry {
  const registry = new Registry();
  const registers = [registry];
  new Gauge({ name: 'probe_success', help: 'Whether the probe succeeded.', registers }).set(outcome.success ? 1 : 0);
  new Gauge({ name: 'probe_duration_seconds', help: 'How long the probe took.', registers }).set(outcome.durationSeconds);
  const s = outcome.snapshot;
  if (!s) return registry;
  addCoreFamilies(registry, s);
  if (s.strongswan) addStrongswanFamilies(registry, s.strongswan);
  if (s.openvpn) addOpenvpnFamilies(registry, s.openvpn.servers);
  if (s.paloalto) addPaloaltoFamilies(registry, s.paloalto);
  return registry;
}
