import type { GatewayInfo, GatewaySnapshot, TunnelState } from '../../model/snapshot.js';
import type { PanosSystemInfo } from './system-info.js';
import type { PanosVpnFlow } from './vpn-flow.js';

/**
 * `show vpn flow` states: active carries traffic; inactiv is down; init is negotiating,
 * which carries no traffic either, so it is down too (the detail keeps the word).
 */
function stateOf(panosState: string): TunnelState {
  switch (panosState) {
    case 'active':
      return 'up';
    case 'inactiv':
    case 'init':
      return 'down';
    default:
      return 'unknown';
  }
}

export function buildPaloaltoSnapshot(system: PanosSystemInfo, flow: PanosVpnFlow, haState: string | undefined): GatewaySnapshot {
  return {
    info: toGatewayInfo(system),
    tunnels: flow.tunnels.map((t) => ({
      name: t.name,
      kind: 'site-to-site' as const,
      state: stateOf(t.state),
      detail: t.state,
      localAddress: t.localIp,
      remoteAddress: t.peerIp,
      activeSessions: t.state === 'active' ? 1 : 0,
    })),
    sessions: [],
    pools: [],
    paloalto: { tunnels: flow.tunnels, totals: flow.totals, haState },
  };
}

/** PAN-OS prints `unknown` for what it does not know (a VM's serial before licensing). */
function known(v: string | undefined): string | undefined {
  return v === undefined || v.toLowerCase() === 'unknown' ? undefined : v;
}

/** `show system info` as the vendor-neutral device description. */
export function toGatewayInfo(info: PanosSystemInfo): GatewayInfo {
  const out: GatewayInfo = { vendor: 'paloalto', product: 'PAN-OS', os: 'PAN-OS' };
  const version = known(info.swVersion);
  const model = known(info.model);
  const serial = known(info.serial);
  if (version !== undefined) out.version = version;
  if (info.hostname !== undefined) out.hostname = info.hostname;
  if (model !== undefined) out.model = model;
  if (serial !== undefined) out.serial = serial;
  if (info.uptimeSeconds !== undefined) out.uptimeSeconds = info.uptimeSeconds;
  return out;
}
