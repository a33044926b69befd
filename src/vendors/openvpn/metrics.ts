import type { MetricSet } from '../../exposition/metric-set.js';
import type { GatewaySnapshot } from '../../model/snapshot.js';
import { gauge, setKnown, uniqueByName } from '../../exposition/family.js';

/** OpenVPN detail beyond the core family: one series set per status file read. */
export function addOpenvpnFamilies(set: MetricSet, snapshot: GatewaySnapshot): void {
  if (!snapshot.openvpn) return;
  const servers = uniqueByName(snapshot.openvpn.servers);
  const info = gauge(set, 'openvpn_status_info', 'An OpenVPN status file read by the probe; the value is always 1.', ['server', 'path', 'format']);
  const age = gauge(set, 'openvpn_status_age_seconds', 'Seconds since OpenVPN last rewrote its status file.', ['server']);
  const routes = gauge(set, 'openvpn_routes', 'Entries in the routing table of an OpenVPN server.', ['server']);
  const queue = gauge(set, 'openvpn_max_bcast_mcast_queue_length', 'Longest broadcast/multicast queue of an OpenVPN server.', ['server']);
  const dco = gauge(set, 'openvpn_dco_enabled', 'Whether data channel offload is enabled (OpenVPN 2.6+).', ['server']);
  for (const s of servers) {
    info.set({ server: s.name, path: s.path, format: s.format }, 1);
    setKnown(age, { server: s.name }, s.ageSeconds);
    routes.set({ server: s.name }, s.routes);
    setKnown(queue, { server: s.name }, s.maxBcastMcastQueueLength);
    if (s.dcoEnabled !== undefined) dco.set({ server: s.name }, s.dcoEnabled ? 1 : 0);
  }
}
