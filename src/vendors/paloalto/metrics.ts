import type { MetricSet } from '../../exposition/metric-set.js';
import type { GatewaySnapshot } from '../../model/snapshot.js';
import { gauge, groupBy, key, setKnown, uniqueByName } from '../../exposition/family.js';

/** HA states PAN-OS documents; a state outside the list gets its own series too (the device's vocabulary is small). */
export const HA_STATES = ['active', 'passive', 'suspended', 'non-functional', 'initial', 'tentative', 'active-primary', 'active-secondary'];

/** IKE and IPsec SA detail: written at `detail: sas` only. */
const SAS = { level: 'sas' } as const;

/** PAN-OS detail beyond the core family. */
export function addPaloaltoFamilies(set: MetricSet, snapshot: GatewaySnapshot): void {
  if (!snapshot.paloalto) return;
  const d = { ...snapshot.paloalto, tunnels: uniqueByName(snapshot.paloalto.tunnels) };
  // One series per configured tunnel: bounded, and it carries what the seed exporter
  // exposed as ifAlias/ifDescr/ifIndex so recording rules can rebuild its names.
  const info = gauge(set, 'paloalto_tunnel_info', 'A tunnel from "show vpn flow"; the value is always 1.', [
    'tunnel',
    'id',
    'interface',
    'monitor',
    'local_ip',
    'peer_ip',
    'state',
  ]);
  for (const t of d.tunnels) {
    info.set({ tunnel: t.name, id: String(t.id), interface: t.interface, monitor: t.monitor, local_ip: t.localIp, peer_ip: t.peerIp, state: t.state }, 1);
  }
  const totals = gauge(set, 'paloalto_tunnels_configured', 'Tunnels configured on the device, by type (all, ipsec), as "show vpn flow" prints the totals.', [
    'type',
  ]);
  setKnown(totals, { type: 'all' }, d.totals.configured);
  setKnown(totals, { type: 'ipsec' }, d.totals.ipsecConfigured);
  if (d.haState !== undefined) {
    gauge(set, 'paloalto_ha_info', 'High-availability state shown in the CLI prompt; the value is always 1.', ['state']).set({ state: d.haState }, 1);
  }

  const commands = Object.entries(d.commands ?? {});
  if (commands.length > 0) {
    const ok = gauge(
      set,
      'paloalto_command_success',
      'Whether an optional CLI command of the probe answered and was read (1) or was refused or unreadable (0).',
      ['command'],
    );
    for (const [command, success] of commands) ok.set({ command }, success ? 1 : 0);
  }

  if (d.ha) {
    gauge(set, 'paloalto_ha_enabled', 'Whether high availability is configured ("show high-availability state").', []).set({}, d.ha.enabled ? 1 : 0);
    if (d.ha.enabled) {
      oneHot(gauge(set, 'paloalto_ha_local_state', 'HA state of this unit: 1 for the current state, 0 for the others.', ['state']), d.ha.localState);
      oneHot(
        gauge(set, 'paloalto_ha_peer_state', 'HA state of the peer as this unit sees it: 1 for the current state, 0 for the others.', ['state']),
        d.ha.peerState,
      );
      if (d.ha.peerConnection !== undefined) {
        gauge(set, 'paloalto_ha_peer_connected', 'Whether this unit reaches its HA peer (HA1 connection status up).', []).set(
          {},
          d.ha.peerConnection === 'up' ? 1 : 0,
        );
      }
    }
  }

  const gp = d.globalProtect;
  if (gp && gp.gateways.length > 0) {
    const current = gauge(set, 'paloalto_globalprotect_gateway_users', 'Users connected to a GlobalProtect gateway now.', ['gateway']);
    const previous = gauge(
      set,
      'paloalto_globalprotect_gateway_previous_users',
      'Users the GlobalProtect gateway lists as previously connected (logged out).',
      ['gateway'],
    );
    for (const g of uniqueByName(gp.gateways)) {
      setKnown(current, { gateway: g.name }, g.currentUsers);
      setKnown(previous, { gateway: g.name }, g.previousUsers);
    }
  }

  if (d.ikeSas) {
    // Several SAs of one gateway (a rekey overlap) share a label set: counted, not repeated.
    const count = gauge(set, 'paloalto_ike_sas', 'IKE (phase 1) SAs of an IKE gateway, by IKE version.', ['gateway', 'version'], SAS);
    for (const g of groupBy(d.ikeSas, (s) => key(s.gateway, String(s.version))).values()) {
      const f = g[0];
      if (f) count.set({ gateway: f.gateway, version: String(f.version) }, g.length);
    }
    const ikeInfo = gauge(
      set,
      'paloalto_ike_sa_info',
      "An IKE SA's negotiated parameters; the value is always 1.",
      ['gateway', 'version', 'role', 'mode', 'algorithm', 'state'],
      SAS,
    );
    for (const g of groupBy(d.ikeSas, (s) => key(s.gateway, String(s.version), s.role ?? '', s.mode ?? '', s.algorithm ?? '', s.state ?? '')).values()) {
      const s = g[0];
      if (s)
        ikeInfo.set(
          { gateway: s.gateway, version: String(s.version), role: s.role ?? '', mode: s.mode ?? '', algorithm: s.algorithm ?? '', state: s.state ?? '' },
          1,
        );
    }
  }

  if (d.ipsecSas) {
    const byTunnel = groupBy(d.ipsecSas, (s) => s.tunnel);
    // Every tunnel of `show vpn flow` (one per proxy-id) gets a count, 0 when it has no SA:
    // that names the proxy-id that is down.
    const count = gauge(set, 'paloalto_ipsec_sas', 'Installed IPsec SAs of a tunnel (tunnel:proxy-id for tunnels with proxy-ids).', ['tunnel'], SAS);
    const names = [...new Set([...d.tunnels.map((t) => t.name), ...byTunnel.keys()])];
    for (const n of names) count.set({ tunnel: n }, byTunnel.get(n)?.length ?? 0);
    const remaining = gauge(
      set,
      'paloalto_ipsec_sa_remaining_seconds',
      'Seconds until the newest IPsec SA of a tunnel expires (it is rekeyed before).',
      ['tunnel'],
      SAS,
    );
    const lifetime = gauge(set, 'paloalto_ipsec_sa_lifetime_seconds', 'Negotiated lifetime of the newest IPsec SA of a tunnel.', ['tunnel'], SAS);
    const saInfo = gauge(
      set,
      'paloalto_ipsec_sa_info',
      "An IPsec SA's gateway and algorithms; the value is always 1.",
      ['tunnel', 'gateway', 'algorithm'],
      SAS,
    );
    const seen = new Set<string>();
    for (const [tunnel, sas] of byTunnel) {
      const newest = sas.reduce((a, b) => ((b.remainingSeconds ?? -1) > (a.remainingSeconds ?? -1) ? b : a));
      setKnown(remaining, { tunnel }, newest.remainingSeconds);
      setKnown(lifetime, { tunnel }, newest.lifetimeSeconds);
      for (const s of sas) {
        const k = key(tunnel, s.gateway ?? '', s.algorithm ?? '');
        if (seen.has(k)) continue;
        seen.add(k);
        saInfo.set({ tunnel, gateway: s.gateway ?? '', algorithm: s.algorithm ?? '' }, 1);
      }
    }
  }
}

function oneHot(f: { set(labels: { state: string }, v: number): void }, state: string | undefined): void {
  if (state === undefined) return;
  for (const s of HA_STATES) f.set({ state: s }, s === state ? 1 : 0);
  if (!HA_STATES.includes(state)) f.set({ state }, 1);
}
