import type { MetricSet } from '../../exposition/metric-set.js';
import type { GatewaySnapshot } from '../../model/snapshot.js';
import { counter, gauge, setKnown, uniqueByName } from '../../exposition/family.js';
import { MANAGEMENT_STATES } from './mgmt-replies.js';

/** A state word outside the documented set is exported as printed, if it looks like one. */
const STATE_WORD = /^[A-Z][A-Z0-9_]{0,31}$/;

/** OpenVPN detail beyond the core family: one series set per status file or management interface read. */
export function addOpenvpnFamilies(set: MetricSet, snapshot: GatewaySnapshot): void {
  if (!snapshot.openvpn) return;
  const servers = uniqueByName(snapshot.openvpn.servers);
  const info = gauge(set, 'openvpn_status_info', 'An OpenVPN status file read by the probe; the value is always 1.', ['server', 'path', 'format']);
  const age = gauge(set, 'openvpn_status_age_seconds', 'Seconds since OpenVPN last rewrote its status file.', ['server']);
  const routes = gauge(set, 'openvpn_routes', 'Entries in the routing table of an OpenVPN server.', ['server']);
  const queue = gauge(set, 'openvpn_max_bcast_mcast_queue_length', 'Longest broadcast/multicast queue of an OpenVPN server.', ['server']);
  const dco = gauge(set, 'openvpn_dco_enabled', 'Whether data channel offload is enabled (OpenVPN 2.6+).', ['server']);
  for (const s of servers) {
    if (!s.management) info.set({ server: s.name, path: s.path, format: s.format }, 1);
    setKnown(age, { server: s.name }, s.ageSeconds);
    routes.set({ server: s.name }, s.routes);
    setKnown(queue, { server: s.name }, s.maxBcastMcastQueueLength);
    if (s.dcoEnabled !== undefined) dco.set({ server: s.name }, s.dcoEnabled ? 1 : 0);
  }
  addManagementFamilies(set, servers);
}

/** What only the management interface tells (openvpn-mgmt). */
function addManagementFamilies(set: MetricSet, servers: NonNullable<GatewaySnapshot['openvpn']>['servers']): void {
  const managed = servers.filter((s) => s.management !== undefined);
  if (managed.length === 0) return;
  const info = gauge(set, 'openvpn_management_info', 'The OpenVPN behind a management interface; the value is always 1.', [
    'server',
    'version',
    'management_version',
  ]);
  const state = gauge(set, 'openvpn_state', "1 for the daemon's current state (CONNECTED serves), 0 for the other documented states.", ['server', 'state']);
  const since = gauge(set, 'openvpn_state_change_timestamp_seconds', 'Unix time the daemon entered its current state.', ['server']);
  const clients = gauge(set, 'openvpn_load_clients', 'Connected clients, as load-stats counts them.', ['server']);
  const rx = counter(set, 'openvpn_load_receive_bytes_total', 'Bytes the daemon read from the network, all clients and control traffic (load-stats).', [
    'server',
  ]);
  const tx = counter(set, 'openvpn_load_transmit_bytes_total', 'Bytes the daemon wrote to the network, all clients and control traffic (load-stats).', [
    'server',
  ]);
  for (const s of managed) {
    const m = s.management!;
    const server = s.name;
    info.set({ server, version: m.version ?? '', management_version: m.managementVersion !== undefined ? String(m.managementVersion) : '' }, 1);
    const current = STATE_WORD.test(m.state) ? m.state : 'unknown';
    for (const word of new Set<string>([...MANAGEMENT_STATES, current])) state.set({ server, state: word }, word === current ? 1 : 0);
    since.set({ server }, m.stateSinceTimestamp);
    setKnown(clients, { server }, m.clients);
    setKnown(rx, { server }, m.bytesIn);
    setKnown(tx, { server }, m.bytesOut);
  }
}
