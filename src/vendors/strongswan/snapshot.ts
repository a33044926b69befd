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
import { Rows } from '../../exposition/rows.js';
import { ConnLists } from './conn-lists.js';
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

function sessionOf(sa: StrongswanIkeSa): Session {
  let bytesIn = 0,
    bytesOut = 0,
    packetsIn = 0,
    packetsOut = 0;
  // One CHILD_SA (nearly every SA): its selectors and counters as they are, not copied.
  const only = sa.children.length === 1 ? sa.children[0] : undefined;
  const shared = only && only.traffic.packetsIn !== undefined && only.traffic.packetsOut !== undefined ? only.traffic : undefined;
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
    traffic: shared ?? { bytesIn, bytesOut, packetsIn, packetsOut },
  };
}

/**
 * The conn a CHILD_SA belongs to. Conns to the same peer with equal IKE settings share
 * one IKE_SA: stroke merges such ipsec.conf conns into one peer config (named after the first), and
 * charon reuses an IKE_SA whose peer config matches by content when a swanctl conn initiates. The
 * IKE_SA then carries the first conn's name while each CHILD_SA keeps the name of its own child
 * config (statusall prints `net-b{7}` under `net-a[3]`; list-sas nests `net-b-7` under `net-a`).
 * A child stays with its IKE_SA's conn when that conn configures a child of its name (or nothing is
 * known about it); otherwise it goes to the one conn that configures it. A child name configured by
 * several other conns (swanctl allows it) cannot be placed, and stays with its IKE_SA's conn.
 */
function childPlacer(configured: readonly ConfiguredConn[]): (sa: StrongswanIkeSa, own: ConfiguredConn | undefined, child: StrongswanChildSa) => string {
  const owner = new Map<string, string | null>();
  for (const c of configured) for (const child of c.children) owner.set(child, owner.has(child) && owner.get(child) !== c.name ? null : c.name);
  return (sa, own, child) => (own === undefined || own.children.includes(child.name) ? sa.conn : (owner.get(child.name) ?? sa.conn));
}

const NO_NAMES: readonly string[] = [];

/**
 * Joins configuration and live SAs, so a configured tunnel that is down is a series
 * with value 0 rather than a missing one. Shared by the VICI and stroke probers.
 *
 * Conns come in the order of the configuration (a name listed twice keeps its first place and
 * its last definition), then those only SAs name, in the order they first appear: an SA of a
 * conn that was unloaded while it lives still deserves a tunnel.
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
  const sas = input.ikeSas;
  const index = new Map<string, number>();
  const names: string[] = [];
  const configured: ConfiguredConn[] = [];
  for (const c of input.conns) {
    const i = index.get(c.name);
    if (i !== undefined) configured[i] = c;
    else {
      index.set(c.name, names.length);
      names.push(c.name);
      configured.push(c);
    }
  }
  const connOf = (name: string): number => {
    let i = index.get(name);
    if (i === undefined) {
      i = names.length;
      index.set(name, i);
      names.push(name);
    }
    return i;
  };
  // Indexed loops over the SAs: run once per probe, much of a loop runs unoptimized, where
  // for...of makes an iterator result per item.
  let childCount = 0;
  for (let i = 0; i < sas.length; i++) {
    const sa = sas[i] as StrongswanIkeSa;
    connOf(sa.conn);
    childCount += sa.children.length;
  }
  const lists = new ConnLists(names.length, sas.length, childCount);
  const placeChild = childPlacer(configured);
  let position = 0;
  for (let i = 0; i < sas.length; i++) {
    const sa = sas[i] as StrongswanIkeSa;
    const conn = index.get(sa.conn) as number;
    lists.addSa(conn, i);
    const own = configured[conn];
    for (let k = 0; k < sa.children.length; k++) {
      const child = sa.children[k] as StrongswanChildSa;
      lists.addChild(index.get(placeChild(sa, own, child)) as number, position++, child);
    }
  }

  const tunnels: Tunnel[] = [];
  const shunts: Shunt[] = [];
  // Children in order: configured ones first, then those only SAs name; rows of one conn are
  // made together, so its children are the rows from where it started.
  const childRows = new Rows(childCount + configured.reduce((n, c) => n + c.children.length, 0), names.length);
  const installed = new Int32Array(childRows.capacity);
  for (let conn = 0; conn < names.length; conn++) {
    const c = configured[conn];
    for (const sh of c?.shunts ?? []) {
      const isInstalled = input.installedShunts?.has(`${sh.conn}/${sh.name}`);
      shunts.push(isInstalled === undefined ? sh : { ...sh, installed: isInstalled });
    }
    const firstSa = lists.firstSa[conn] as number;
    const firstChild = lists.firstChild[conn] as number;
    const idle = firstSa === -1 && firstChild === -1;
    const configuredChildren = c?.children ?? NO_NAMES;
    // Only PASS/DROP children and no SA: a policy, never a tunnel that is down.
    if (configuredChildren.length === 0 && (c?.shunts ?? []).length > 0 && idle) continue;
    const ignored = c?.ignored === true && idle;
    let bytesIn = 0,
      bytesOut = 0,
      packetsIn = 0,
      packetsOut = 0;
    let anyChildUp = false;
    const start = childRows.size;
    for (const name of configuredChildren) childRows.row(conn, name);
    for (let k = firstChild; k >= 0; k = lists.nextChild[k] as number) {
      const child = lists.children[k] as StrongswanChildSa;
      bytesIn += child.traffic.bytesIn;
      bytesOut += child.traffic.bytesOut;
      packetsIn += child.traffic.packetsIn ?? 0;
      packetsOut += child.traffic.packetsOut ?? 0;
      if (CHILD_UP.has(child.state)) {
        anyChildUp = true;
        if (!SUPERSEDED.has(child.state)) {
          const row = childRows.row(conn, child.name);
          installed[row] = installed[row]! + 1;
        }
      }
    }
    // A child that is up only through its REKEYED half (its successor not listed yet) still counts once.
    for (let k = firstChild; k >= 0; k = lists.nextChild[k] as number) {
      const child = lists.children[k] as StrongswanChildSa;
      if (child.state !== 'REKEYED') continue;
      const row = childRows.row(conn, child.name);
      if (installed[row] === 0) installed[row] = 1;
    }
    // Sized up front: pushing onto [] reserves 17 slots, for the one child most conns have.
    const children = new Array<{ name: string; installed: number; state: TunnelState }>(childRows.size - start);
    for (let row = start; row < childRows.size; row++) {
      const n = installed[row] as number;
      children[row - start] = { name: childRows.names[row] as string, installed: n, state: n > 0 ? 'up' : ignored ? 'ignored' : 'down' };
    }
    let activeSessions = 0;
    let remoteAccess = false;
    for (let i = firstSa; i >= 0; i = lists.nextSa[i] as number) {
      const sa = sas[i] as StrongswanIkeSa;
      if (isSession(sa)) activeSessions++;
      if (sa.remoteUserId || sa.virtualIps.length > 0) remoteAccess = true;
    }
    const { state, detail } = ignored ? { state: 'ignored' as const, detail: 'auto=ignore' } : connState(sas, lists, conn, anyChildUp);
    tunnels.push({
      name: names[conn] as string,
      kind: c ? c.kind : remoteAccess ? 'remote-access' : 'site-to-site',
      state,
      detail,
      localAddress: c?.localAddress || undefined,
      remoteAddress: c?.remoteAddress || undefined,
      activeSessions,
      children,
      traffic: onlyChildTraffic(lists, firstChild) ?? { bytesIn, bytesOut, packetsIn, packetsOut },
    });
  }
  const sessions: Session[] = [];
  for (let i = 0; i < sas.length; i++) if (isSession(sas[i] as StrongswanIkeSa)) sessions.push(sessionOf(sas[i] as StrongswanIkeSa));
  return {
    info: { vendor: 'strongswan', ...input.info },
    tunnels,
    sessions,
    pools: input.pools,
    shunts,
    ...(input.certificates ? { certificates: input.certificates } : {}),
    ...(input.crls ? { crls: input.crls } : {}),
    strongswan: { ikeSas: input.ikeSas, stats: input.stats },
  };
}

/**
 * The counters of a conn's only CHILD_SA, when it has one with packet counts: the conn's sums
 * are these four numbers, so the tunnel shares the object (a hub has a tunnel per SA).
 */
function onlyChildTraffic(lists: ConnLists, firstChild: number): StrongswanChildSa['traffic'] | undefined {
  if (firstChild < 0 || lists.nextChild[firstChild] !== -1) return undefined;
  const { traffic } = lists.children[firstChild] as StrongswanChildSa;
  return traffic.packetsIn !== undefined && traffic.packetsOut !== undefined ? traffic : undefined;
}

/** Up when a child carries traffic; else partial on the first SA with a working control channel; else the first odd state; else down. */
function connState(sas: readonly StrongswanIkeSa[], lists: ConnLists, conn: number, anyChildUp: boolean): { state: TunnelState; detail: string } {
  if (anyChildUp) return { state: 'up', detail: 'INSTALLED' };
  const first = lists.firstSa[conn] as number;
  for (let i = first; i >= 0; i = lists.nextSa[i] as number) if (IKE_UP.has(sas[i]!.state)) return { state: 'partial', detail: sas[i]!.state };
  for (let i = first; i >= 0; i = lists.nextSa[i] as number) if (!IKE_KNOWN.has(sas[i]!.state)) return { state: 'unknown', detail: sas[i]!.state };
  return { state: 'down', detail: first >= 0 ? sas[first]!.state : 'no SA' };
}
