import type { MetricSet } from '../../exposition/metric-set.js';
import type { GatewaySnapshot } from '../../model/snapshot.js';
import { gauge, setKnown, uniqueByName } from '../../exposition/family.js';

/** PAN-OS detail beyond the core family. */
export function addPaloaltoFamilies(set: MetricSet, snapshot: GatewaySnapshot): void {
  if (!snapshot.paloalto) return;
  const d = { ...snapshot.paloalto, tunnels: uniqueByName(snapshot.paloalto.tunnels) };
  // One series per configured tunnel: bounded, and it carries what the seed exporter
  // exposed as ifAlias/ifDescr/ifIndex so recording rules can rebuild its names.
  const info = gauge(set, 'paloalto_tunnel_info', 'A tunnel from "show vpn flow"; the value is always 1.', [
    'tunnel', 'id', 'interface', 'monitor', 'local_ip', 'peer_ip', 'state',
  ]);
  for (const t of d.tunnels) {
    info.set({ tunnel: t.name, id: String(t.id), interface: t.interface, monitor: t.monitor, local_ip: t.localIp, peer_ip: t.peerIp, state: t.state }, 1);
  }
  const totals = gauge(set, 'paloalto_tunnels_configured', 'Tunnels configured on the device, by type (all, ipsec).', ['type']);
  setKnown(totals, { type: 'all' }, d.totals.configured);
  setKnown(totals, { type: 'ipsec' }, d.totals.ipsecConfigured);
  if (d.haState !== undefined) {
    gauge(set, 'paloalto_ha_info', 'High-availability state shown in the CLI prompt; the value is always 1.', ['state']).set({ state: d.haState }, 1);
  }
}
