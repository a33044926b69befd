import type {
  AddressPool,
  Certificate,
  Crl,
  GatewayInfo,
  GatewaySnapshot,
  Session,
  Shunt,
  StrongswanDetail,
  StrongswanIkeSa,
  Tunnel,
  TunnelState,
} from '../../model/snapshot.js';
import type { ConfiguredConn } from './records.js';

/** CHILD_SA states in which traffic flows; a rekey in progress is not an outage. */
const CHILD_UP = new Set(['INSTALLED', 'REKEYING', 'REKEYED']);
/**
 * A REKEYED CHILD_SA (or IKE_SA) is the old half of a completed rekey: it lives on for a few
 * seconds beside its successor, which is the one that counts. Its bytes are its own, so traffic
 * still sums it; SA and session counts do not.
 */
const SUPERSEDED = new Set(['REKEYED', 'DELETING', 'DESTROYING']);
/** IKE_SA states with a working control channel. */
const IKE_UP = new Set(['ESTABLISHED', 'REKEYING', 'REKEYED', 'PASSIVE']);
/** Half-open: no peer authenticated yet (often a scan or a retrying initiator with %any), so no session or user. */
const IKE_HALF_OPEN = new Set(['CREATED', 'CONNECTING']);
const IKE_KNOWN = new Set([...IKE_UP, ...IKE_HALF_OPEN, 'DELETING', 'DESTROYING']);

/** IKE_SAs that stand for a live peer: authenticated and not the leftover of a rekey. */
export function isSession(sa: StrongswanIkeSa): boolean {
  return !IKE_HALF_OPEN.has(sa.state) && !SUPERSEDED.has(sa.state);
}

function connState(sas: readonly StrongswanIkeSa[]): { state: TunnelState; detail: string } {
  if (sas.some((sa) => sa.children.some((c) => CHILD_UP.has(c.state)))) return { state: 'up', detail: 'INSTALLED' };
  const established = sas.find((sa) => IKE_UP.has(sa.state));
  if (established) return { state: 'partial', detail: established.state };
  const odd = sas.find((sa) => !IKE_KNOWN.has(sa.state));
  if (odd) return { state: 'unknown', detail: odd.state };
  return { state: 'down', detail: sas[0]?.state ?? 'no SA' };
}

function sessionOf(sa: StrongswanIkeSa): Session {
  let bytesIn = 0,
    bytesOut = 0,
    packetsIn = 0,
    packetsOut = 0;
  // One CHILD_SA (nearly every SA): its selectors as they are, not copied.
  const only = sa.children.length === 1 ? sa.children[0] : undefined;
  const localTs: string[] = only ? only.localTs : [];
  const remoteTs: string[] = only ? only.remoteTs : [];
  for (const c of sa.children) {
    bytesIn += c.traffic.bytesIn;
    bytesOut += c.traffic.bytesOut;
    packetsIn += c.traffic.packetsIn ?? 0;
    packetsOut += c.traffic.packetsOut ?? 0;
    if (only) continue;
    for (const ts of c.localTs) localTs.push(ts);
    for (const ts of c.remoteTs) remoteTs.push(ts);
  }
  return {
    tunnel: sa.conn,
    user: sa.remoteUserId ?? sa.remoteId ?? sa.remoteHost ?? 'unknown',
    id: sa.uniqueId,
    protocol: sa.version === 2 ? 'ikev2' : `ikev${sa.version}`,
    state: sa.state,
    remoteAddress: sa.remoteHost,
    remotePort: sa.remotePort,
    virtualAddresses: sa.virtualIps,
    localTs,
    remoteTs,
    connectedSeconds: sa.establishedSeconds,
    traffic: { bytesIn, bytesOut, packetsIn, packetsOut },
  };
}

/**
 * Joins configuration and live SAs, so a configured tunnel that is down is a series
 * with value 0 rather than a missing one. Shared by the VICI and stroke probers.
 */
export function buildStrongswanSnapshot(input: {
  info: Omit<GatewayInfo, 'vendor'>;
  conns: readonly ConfiguredConn[];
  ikeSas: StrongswanIkeSa[];
  pools: AddressPool[];
  stats?: StrongswanDetail['stats'];
  /** `conn/child` names of shunts the gateway reports as installed; omitted when it cannot tell. */
  installedShunts?: ReadonlySet<string>;
  /** Omitted when not collected. */
  certificates?: Certificate[];
  crls?: Crl[];
}): GatewaySnapshot {
  const byConn = new Map<string, StrongswanIkeSa[]>();
  for (const sa of input.ikeSas) {
    const list = byConn.get(sa.conn);
    if (list) list.push(sa);
    else byConn.set(sa.conn, [sa]);
  }
  const configured = new Map(input.conns.map((c) => [c.name, c]));
  // SAs of a conn that was unloaded while they live still deserve a tunnel.
  for (const [name, sas] of byConn) {
    if (!configured.has(name)) {
      const remoteAccess = sas.some((s) => s.remoteUserId || s.virtualIps.length > 0);
      configured.set(name, { name, kind: remoteAccess ? 'remote-access' : 'site-to-site', ignored: false, children: [], shunts: [] });
    }
  }
  const tunnels: Tunnel[] = [];
  const shunts: Shunt[] = [];
  const childIndex = new Map<string, { name: string; installed: number }>();
  for (const conn of configured.values()) {
    const sas = byConn.get(conn.name) ?? [];
    for (const sh of conn.shunts ?? []) {
      const installed = input.installedShunts?.has(`${sh.conn}/${sh.name}`);
      shunts.push(installed === undefined ? sh : { ...sh, installed });
    }
    // Only PASS/DROP children and no SA: a policy, never a tunnel that is down.
    if (conn.children.length === 0 && (conn.shunts ?? []).length > 0 && sas.length === 0) continue;
    const { state, detail } = conn.ignored && sas.length === 0 ? { state: 'ignored' as const, detail: 'auto=ignore' } : connState(sas);
    let bytesIn = 0,
      bytesOut = 0,
      packetsIn = 0,
      packetsOut = 0,
      activeSessions = 0;
    // Children in order: configured ones first, then those only SAs name, up before rekeyed.
    // One index for all conns, cleared for each: a hub has thousands of conns of one child.
    childIndex.clear();
    const children: { name: string; installed: number }[] = [];
    const childNamed = (name: string) => {
      let c = childIndex.get(name);
      if (c === undefined) {
        c = { name, installed: 0 };
        childIndex.set(name, c);
        children.push(c);
      }
      return c;
    };
    for (const name of conn.children) childNamed(name);
    for (const sa of sas) {
      if (isSession(sa)) activeSessions++;
      for (const c of sa.children) {
        bytesIn += c.traffic.bytesIn;
        bytesOut += c.traffic.bytesOut;
        packetsIn += c.traffic.packetsIn ?? 0;
        packetsOut += c.traffic.packetsOut ?? 0;
        if (CHILD_UP.has(c.state) && !SUPERSEDED.has(c.state)) childNamed(c.name).installed++;
      }
    }
    // A child that is up only through its REKEYED half (its successor not listed yet) still counts once.
    for (const sa of sas) {
      for (const c of sa.children) {
        if (c.state !== 'REKEYED') continue;
        const child = childNamed(c.name);
        if (child.installed === 0) child.installed = 1;
      }
    }
    tunnels.push({
      name: conn.name,
      kind: conn.kind,
      state,
      detail,
      localAddress: conn.localAddress || undefined,
      remoteAddress: conn.remoteAddress || undefined,
      activeSessions,
      children: children.map(({ name, installed }) => ({
        name,
        installed,
        state: installed > 0 ? 'up' : conn.ignored && sas.length === 0 ? 'ignored' : 'down',
      })),
      traffic: { bytesIn, bytesOut, packetsIn, packetsOut },
    });
  }
  return {
    info: { vendor: 'strongswan', ...input.info },
    tunnels,
    sessions: input.ikeSas.filter(isSession).map(sessionOf),
    pools: input.pools,
    shunts,
    ...(input.certificates ? { certificates: input.certificates } : {}),
    ...(input.crls ? { crls: input.crls } : {}),
    strongswan: { ikeSas: input.ikeSas, stats: input.stats },
  };
}
