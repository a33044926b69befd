import type { GatewayInfo, GatewaySnapshot, PaloaltoDetail, TunnelState } from '../../model/snapshot.js';

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

export function buildPaloaltoSnapshot(info: GatewayInfo, flow: Pick<PaloaltoDetail, 'tunnels' | 'totals'>, haState: string | undefined): GatewaySnapshot {
  return {
    info,
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
