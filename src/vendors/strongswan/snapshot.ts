import type {
  AddressPool,
  Certificate,
  Crl,
  GatewayInfo,
  GatewaySnapshot,
  Session,
  Shunt,
  StrongswanChildSa,
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

function connState(sas: readonly StrongswanIkeSa[], children: readonly StrongswanChildSa[]): { state: TunnelState; detail: string } {
  if (children.some((c) => CHILD_UP.has(c.state))) return { state: 'up', detail: 'INSTALLED' };
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
 * CHILD_SAs grouped by the conn they belong to. Conns to the same peer with equal IKE settings share
 * one IKE_SA: stroke merges such ipsec.conf conns into one peer config (named after the first), and
 * charon reuses an IKE_SA whose peer config matches by content when a swanctl conn initiates. The
 * IKE_SA then carries the first conn's name while each CHILD_SA keeps the name of its own child
 * config (statusall prints `net-b{7}` under `net-a[3]`; list-sas nests `net-b-7` under `net-a`).
 * A child stays with its IKE_SA's conn when that conn configures a child of its name (or nothing is
 * known about it); otherwise it goes to the one conn that configures it. A child name configured by
 * several other conns (swanctl allows it) cannot be placed, and stays with its IKE_SA's conn.
 */
function childrenOfConns(ikeSas: readonly StrongswanIkeSa[], conns: ReadonlyMap<string, ConfiguredConn>): Map<string, StrongswanChildSa[]> {
  const owner = new Map<string, string | null>();
  for (const c of conns.values()) for (const child of c.children) owner.set(child, owner.has(child) && owner.get(child) !== c.name ? null : c.name);
  const out = new Map<string, StrongswanChildSa[]>();
  for (const sa of ikeSas) {
    const own = conns.get(sa.conn);
    for (const child of sa.children) {
      const conn = own === undefined || own.children.includes(child.name) ? sa.conn : (owner.get(child.name) ?? sa.conn);
      const list = out.get(conn);
      if (list) list.push(child);
      else out.set(conn, [child]);
    }
  }
  return out;
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
  // Children are placed by what is really configured, before the conns below that only SAs name:
  // those configure nothing, so their SAs' children stay with them.
  const childrenByConn = childrenOfConns(input.ikeSas, configured);
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
    const childSas = childrenByConn.get(conn.name) ?? [];
    for (const sh of conn.shunts ?? []) {
      const installed = input.installedShunts?.has(`${sh.conn}/${sh.name}`);
      shunts.push(installed === undefined ? sh : { ...sh, installed });
    }
    const idle = sas.length === 0 && childSas.length === 0;
    // Only PASS/DROP children and no SA: a policy, never a tunnel that is down.
    if (conn.children.length === 0 && (conn.shunts ?? []).length > 0 && idle) continue;
    const { state, detail } = conn.ignored && idle ? { state: 'ignored' as const, detail: 'auto=ignore' } : connState(sas, childSas);
    let bytesIn = 0,
      bytesOut = 0,
      packetsIn = 0,
      packetsOut = 0;
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
    for (const c of childSas) {
      bytesIn += c.traffic.bytesIn;
      bytesOut += c.traffic.bytesOut;
      packetsIn += c.traffic.packetsIn ?? 0;
      packetsOut += c.traffic.packetsOut ?? 0;
      if (CHILD_UP.has(c.state) && !SUPERSEDED.has(c.state)) childNamed(c.name).installed++;
    }
    // A child that is up only through its REKEYED half (its successor not listed yet) still counts once.
    for (const c of childSas) {
      if (c.state !== 'REKEYED') continue;
      const child = childNamed(c.name);
      if (child.installed === 0) child.installed = 1;
    }
    let activeSessions = 0;
    for (const sa of sas) if (isSession(sa)) activeSessions++;
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
        state: installed > 0 ? 'up' : conn.ignored && idle ? 'ignored' : 'down',
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
