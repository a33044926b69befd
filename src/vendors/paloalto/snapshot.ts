import type { GatewayInfo, GatewaySnapshot, PaloaltoDetail, Session, Tunnel, TunnelState } from '../../model/snapshot.js';
import type { PanosGpStatistics, PanosGpUser } from './global-protect.js';
import { isStandbyHaState, type PanosHaState } from './high-availability.js';
import type { PanosIkeSas, PanosIpsecSa } from './sa.js';
import type { PanosSystemInfo } from './system-info.js';
import type { PanosVpnFlow } from './vpn-flow.js';

/**
 * `show vpn flow` states: active carries traffic; inactiv (the CLI's column cuts the word) is down; init is negotiating,
 * which carries no traffic either, so it is down too (the detail keeps the word).
 */
function stateOf(panosState: string): TunnelState {
  switch (panosState) {
    case 'active':
      return 'up';
    case 'inactiv':
    case 'inactive':
    case 'init':
      return 'down';
    default:
      return 'unknown';
  }
}

/** What one probe read; every part but system info and the flow is optional (not asked, or refused). */
export interface PanosRecords {
  system: PanosSystemInfo;
  flow: PanosVpnFlow;
  /** HA state in the CLI prompt, if any. */
  promptHaState?: string;
  ha?: PanosHaState;
  gpUsers?: PanosGpUser[];
  gpStats?: PanosGpStatistics;
  ikeSas?: PanosIkeSas;
  ipsecSas?: PanosIpsecSa[];
  /** Optional commands asked: whether each answered and was read. */
  commands?: Record<string, boolean>;
  /** The probe's clock, to turn login times into connected seconds. */
  nowMs?: number;
}

export function buildPaloaltoSnapshot(r: PanosRecords): GatewaySnapshot {
  // The HA command is the better source; the prompt is what every unit shows anyway.
  const localHa = r.ha?.enabled ? r.ha.localState : r.promptHaState;
  const standby = isStandbyHaState(localHa);
  const tunnels: Tunnel[] = r.flow.tunnels.map((t) => ({
    name: t.name,
    kind: 'site-to-site' as const,
    state: standby ? 'standby' : stateOf(t.state),
    detail: t.state,
    localAddress: t.localIp,
    remoteAddress: t.peerIp,
    activeSessions: t.state === 'active' ? 1 : 0,
  }));

  const users = r.gpUsers ?? [];
  const gateways = gpGateways(users, r.gpStats);
  const taken = new Set(tunnels.map((t) => t.name));
  for (const g of gateways) {
    if (taken.has(g.name)) continue;
    taken.add(g.name);
    tunnels.push({
      name: g.name,
      kind: 'remote-access',
      // A configured gateway serves users; on a standby unit its peer does.
      state: standby ? 'standby' : 'up',
      detail: 'GlobalProtect gateway',
      activeSessions: r.gpUsers ? users.filter((u) => u.gateway === g.name).length : (g.currentUsers ?? 0),
    });
  }
  const nowS = (r.nowMs ?? Date.now()) / 1000;
  const sessions = users.map((u) => toSession(u, nowS));

  const paloalto: PaloaltoDetail = {
    tunnels: r.flow.tunnels,
    totals: r.flow.totals,
    commands: { ...r.commands },
  };
  if (r.promptHaState !== undefined) paloalto.haState = r.promptHaState;
  if (r.ha) paloalto.ha = r.ha;
  if (r.gpUsers || r.gpStats) {
    paloalto.globalProtect = { gateways, users };
    if (r.gpStats?.totalPreviousUsers !== undefined) paloalto.globalProtect.totalPreviousUsers = r.gpStats.totalPreviousUsers;
  }
  if (r.ikeSas) paloalto.ikeSas = r.ikeSas.ikeSas;
  if (r.ipsecSas) paloalto.ipsecSas = r.ipsecSas;
  return { info: toGatewayInfo(r.system), tunnels, sessions, pools: [], paloalto };
}

/** Gateways named by `statistics` or by a user, in that order, with their counts. */
function gpGateways(users: readonly PanosGpUser[], stats: PanosGpStatistics | undefined) {
  const out = new Map<string, { name: string; currentUsers?: number; previousUsers?: number }>();
  for (const g of stats?.gateways ?? []) if (g.name !== '' && !out.has(g.name)) out.set(g.name, { ...g });
  for (const u of users) {
    if (u.gateway === '') continue;
    const g = out.get(u.gateway) ?? { name: u.gateway };
    out.set(u.gateway, g);
  }
  for (const g of out.values()) {
    if (g.currentUsers === undefined && users.length > 0) g.currentUsers = users.filter((u) => u.gateway === g.name).length;
  }
  return [...out.values()];
}

function toSession(u: PanosGpUser, nowS: number): Session {
  const s: Session = {
    tunnel: u.gateway,
    user: u.primaryUsername ?? u.username,
    id: [u.gateway, u.username, u.computer ?? ''].join('/'),
    state: 'connected',
    virtualAddresses: [u.virtualIp, u.virtualIpv6].filter((a): a is string => a !== undefined),
  };
  if (u.tunnelType !== undefined) s.protocol = u.tunnelType;
  if (u.publicIp !== undefined) s.remoteAddress = u.publicIp;
  if (u.loginEpochSeconds !== undefined) s.connectedSeconds = Math.max(0, Math.round(nowS - u.loginEpochSeconds));
  const details: Record<string, string> = {};
  const put = (k: string, v: string | undefined) => {
    if (v !== undefined && v !== '') details[k] = v;
  };
  put('username', u.username);
  put('computer', u.computer);
  put('client', u.client);
  put('clientOs', u.clientOs);
  put('vpnType', u.vpnType);
  put('loginTime', u.loginTime);
  if (Object.keys(details).length > 0) s.details = details;
  return s;
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
