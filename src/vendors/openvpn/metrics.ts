import type { MetricSet } from '../../exposition/metric-set.js';
import type { OpenvpnServerDetail } from '../../model/snapshot.js';
import { gauge, setKnown } from '../../exposition/family.js';

export function addOpenvpnFamilies(registry: MetricSet, servers: readonly OpenvpnServerDetail[]): void {
  const info = gauge(registry, 'openvpn_status_info', 'An OpenVPN status file read by the probe; the value is always 1.', ['server', 'path', 'format']);
  const age = gauge(registry, 'openvpn_status_age_seconds', 'Seconds since OpenVPN last rewrote its status file.', ['server']);
  const routes = gauge(registry, 'openvpn_routes', 'Entries in the routing table of an OpenVPN server.', ['server']);
  const queue = gauge(registry, 'openvpn_max_bcast_mcast_queue_length', 'Longest broadcast/multicast queue of an OpenVPN server.', ['server']);
  const dco = gauge(registry, 'openvpn_dco_enabled', 'Whether data channel offload is enabled (OpenVPN 2.6+).', ['server']);
  for (const s of servers) {
    info.set({ server: s.name, path: s.path, format: s.format }, 1);
    setKnown(age, { server: s.name }, s.ageSeconds);
    routes.set({ server: s.name }, s.routes);
    setKnown(queue, { server: s.name }, s.maxBcastMcastQueueLength);
    if (s.dcoEnabled !== undefined) dco.set({ server: s.name }, s.dcoEnabled ? 1 : 0);
  }
}
