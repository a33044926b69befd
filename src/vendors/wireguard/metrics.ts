import type { MetricSet } from '../../exposition/metric-set.js';
import type { GatewaySnapshot } from '../../model/snapshot.js';
import { counter, gauge, setKnown, uniqueByName } from '../../exposition/family.js';

/** One series set per peer: a peer is a user (`detail: users`, `user_labels`, `max_users`). */
const PEER = { level: 'users', user: { tunnel: 'interface', user: 'peer' } } as const;

/**
 * WireGuard detail beyond the core family: one series per interface and per configured
 * peer (connected or not). The `peer` label is the peer's name (unique per interface);
 * keys, endpoints and allowed IPs stay in the JSON and on the pages.
 */
export function addWireguardFamilies(set: MetricSet, snapshot: GatewaySnapshot): void {
  if (!snapshot.wireguard) return;
  const d = { ...snapshot.wireguard, interfaces: uniqueByName(snapshot.wireguard.interfaces) };
  const port = gauge(set, 'wireguard_interface_listen_port', 'UDP port a WireGuard interface listens on (a value, not a label).', ['interface']);
  const peerCount = gauge(set, 'wireguard_interface_peers', 'Peers configured on a WireGuard interface.', ['interface']);
  const connected = gauge(
    set,
    'wireguard_peer_connected',
    "Whether the peer's latest handshake is younger than the module's connected_within (1) or not, or never happened (0).",
    ['interface', 'peer'],
    PEER,
  );
  const handshake = gauge(
    set,
    'wireguard_peer_latest_handshake_timestamp_seconds',
    "Unix time of the peer's latest handshake, by the gateway's clock; absent when there never was one.",
    ['interface', 'peer'],
    PEER,
  );
  const rx = counter(set, 'wireguard_peer_receive_bytes_total', 'Bytes received from a peer.', ['interface', 'peer'], PEER);
  const tx = counter(set, 'wireguard_peer_transmit_bytes_total', 'Bytes sent to a peer.', ['interface', 'peer'], PEER);
  const keepalive = gauge(
    set,
    'wireguard_peer_persistent_keepalive_seconds',
    'Persistent keepalive interval of a peer; absent when off.',
    ['interface', 'peer'],
    PEER,
  );
  const allowed = gauge(set, 'wireguard_peer_allowed_ips', 'Allowed IP ranges of a peer.', ['interface', 'peer'], PEER);
  for (const i of d.interfaces) {
    setKnown(port, { interface: i.name }, i.listenPort);
    peerCount.set({ interface: i.name }, i.peers.length);
    const seen = new Set<string>();
    for (const p of i.peers) {
      // A key listed twice (a device bug) must not repeat a series.
      if (seen.has(p.label)) continue;
      seen.add(p.label);
      const labels = { interface: i.name, peer: p.label };
      connected.set(labels, p.connected ? 1 : 0);
      setKnown(handshake, labels, p.latestHandshakeTimestamp);
      rx.set(labels, p.traffic.bytesIn);
      tx.set(labels, p.traffic.bytesOut);
      setKnown(keepalive, labels, p.persistentKeepaliveSeconds);
      allowed.set(labels, p.allowedIps.length);
    }
  }
}
