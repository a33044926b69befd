import type { AddressPool, Certificate, Crl, GatewayInfo, Shunt, StrongswanChildSa, StrongswanDetail, StrongswanIkeSa } from '../../model/snapshot.js';
import { shuntMode, type ConfiguredConn } from './records.js';
import { charonDurationRange } from './durations.js';
import { decodeCertificate, decodeCrl } from '../../util/x509.js';
import { isSection, list, num, section, sections, str, type ViciSection } from './vici-value.js';

/** `version` → daemon info. */
export function parseViciVersion(msg: ViciSection): Pick<GatewayInfo, 'product' | 'version' | 'os'> {
  const os = [str(msg, 'sysname'), str(msg, 'release'), str(msg, 'machine')].filter(Boolean).join(' ');
  return { product: str(msg, 'daemon') ?? 'charon', version: str(msg, 'version'), os: os || undefined };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** charon prints its start as "Nov 24 06:40:12 2026" in the gateway's local time; we read it as UTC. */
export function parseCharonTime(text: string): number | undefined {
  const m = /^([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/.exec(text.trim());
  if (!m) return undefined;
  const month = MONTHS.indexOf(m[1] as string);
  if (month < 0) return undefined;
  return Date.UTC(Number(m[6]), month, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])) / 1000;
}

/**
 * Uptime from `stats`. "running" is exact only up to two minutes, then truncated to
 * minutes, hours, days; "since" is exact but in the gateway's local time, zone unknown.
 * The start time read as UTC is taken when it agrees with "running" (a gateway on UTC),
 * otherwise the lower bound of "running".
 */
export function viciUptime(uptime: ViciSection | undefined, nowSeconds: number): number | undefined {
  if (!uptime) return undefined;
  const running = str(uptime, 'running');
  const range = running !== undefined ? charonDurationRange(running) : undefined;
  const since = str(uptime, 'since');
  const started = since !== undefined ? parseCharonTime(since) : undefined;
  const fromStart = started !== undefined ? Math.round(nowSeconds - started) : undefined;
  if (range === undefined) return fromStart !== undefined && fromStart >= 0 ? fromStart : undefined;
  if (fromStart !== undefined && fromStart >= range.min - 1 && fromStart <= range.max + 1) return fromStart;
  return range.min;
}

/** `stats` → daemon-wide counts. */
export function parseViciStats(msg: ViciSection): NonNullable<StrongswanDetail['stats']> {
  const workers = section(msg, 'workers');
  const active = workers ? section(workers, 'active') : undefined;
  const queues = section(msg, 'queues');
  const ikesas = section(msg, 'ikesas');
  const toCounts = (s: ViciSection | undefined) => (s ? Object.fromEntries(Object.keys(s).map((k) => [k, num(s, k) ?? 0])) : undefined);
  return {
    ikeSasTotal: ikesas ? num(ikesas, 'total') : undefined,
    ikeSasHalfOpen: ikesas ? num(ikesas, 'half-open') : undefined,
    workers: workers ? { total: num(workers, 'total') ?? 0, idle: num(workers, 'idle') ?? 0, active: toCounts(active) ?? {} } : undefined,
    queues: toCounts(queues),
    scheduled: num(msg, 'scheduled'),
  };
}

function parseChild(name: string, c: ViciSection): StrongswanChildSa {
  return {
    name: str(c, 'name') ?? name.replace(/-\d+$/, ''),
    uniqueId: str(c, 'uniqueid') ?? '',
    state: str(c, 'state') ?? 'UNKNOWN',
    mode: str(c, 'mode'),
    protocol: str(c, 'protocol'),
    encap: str(c, 'encap') === 'yes',
    traffic: {
      bytesIn: num(c, 'bytes-in') ?? 0,
      bytesOut: num(c, 'bytes-out') ?? 0,
      packetsIn: num(c, 'packets-in') ?? 0,
      packetsOut: num(c, 'packets-out') ?? 0,
    },
    installSeconds: num(c, 'install-time'),
    rekeySeconds: num(c, 'rekey-time'),
    lifeSeconds: num(c, 'life-time'),
    localTs: list(c, 'local-ts'),
    remoteTs: list(c, 'remote-ts'),
  };
}

/** One `list-sa` event (keyed by conn name) → its IKE_SAs. */
export function parseListSaEvent(event: ViciSection): StrongswanIkeSa[] {
  const out: StrongswanIkeSa[] = [];
  for (const [conn, sa] of sections(event, 'IKE_SA')) {
    const children = section(sa, 'child-sas');
    const remotePort = num(sa, 'remote-port');
    out.push({
      conn,
      uniqueId: str(sa, 'uniqueid') ?? '',
      version: num(sa, 'version') ?? 2,
      state: str(sa, 'state') ?? 'UNKNOWN',
      localHost: str(sa, 'local-host'),
      remoteHost: str(sa, 'remote-host'),
      remotePort,
      localId: str(sa, 'local-id'),
      remoteId: str(sa, 'remote-id'),
      remoteUserId: str(sa, 'remote-eap-id') ?? str(sa, 'remote-xauth-id'),
      establishedSeconds: num(sa, 'established'),
      rekeySeconds: num(sa, 'rekey-time'),
      reauthSeconds: num(sa, 'reauth-time'),
      virtualIps: list(sa, 'remote-vips'),
      children: children ? [...sections(children, 'CHILD_SA')].map(([n, c]) => parseChild(n, c)) : [],
    });
  }
  return out;
}

const USER_AUTH = /eap|xauth/i;

/**
 * Remote access or site-to-site, from what the conn does rather than from who may connect:
 * - peers authenticate as users (an EAP or XAuth round), or
 * - the conn hands out virtual IPs (a `pools` list, printed by releases that list it), or
 * - the peer is any single host: remote_addrs is %any (or empty) and no child names a remote
 *   subnet, only `dynamic` (the peer's own address or virtual IP).
 * A dynamic peer alone (remote_addrs = %any) with remote subnets is a site-to-site link to a
 * branch on a changing address; live SAs with virtual IPs turn any conn into remote access
 * (see buildStrongswanSnapshot).
 */
export function viciConnKind(conn: ViciSection): 'remote-access' | 'site-to-site' {
  for (const [key, value] of Object.entries(conn)) {
    if (key.startsWith('remote') && isSection(value) && USER_AUTH.test(str(value, 'class') ?? '')) return 'remote-access';
  }
  if (optionalList(conn, 'pools').length > 0) return 'remote-access';
  const remoteAddrs = optionalList(conn, 'remote_addrs');
  const anyPeer = remoteAddrs.length === 0 || remoteAddrs.some((a) => a === '%any' || a === '0.0.0.0/0' || a === '::/0');
  if (!anyPeer) return 'site-to-site';
  const children = conn.children;
  const remoteTs = isSection(children) ? Object.values(children).flatMap((c) => (isSection(c) ? optionalList(c, 'remote-ts') : [])) : [];
  return remoteTs.every((ts) => ts === 'dynamic') ? 'remote-access' : 'site-to-site';
}

/** A list that may come as a single value, or (from a release we do not know) as something else: then empty. */
function optionalList(s: ViciSection, k: string): string[] {
  const v = s[k];
  return typeof v === 'string' ? [v] : Array.isArray(v) ? v : [];
}

/** One `list-conn` event → configured conns with their children; PASS/DROP children are shunts. */
export function parseListConnEvent(event: ViciSection): ConfiguredConn[] {
  const out: ConfiguredConn[] = [];
  for (const [name, conn] of Object.entries(event)) {
    if (!isSection(conn)) continue;
    const childSection = conn.children;
    const children: string[] = [];
    const shunts: Shunt[] = [];
    if (isSection(childSection)) {
      for (const [child, c] of Object.entries(childSection)) {
        const mode = isSection(c) ? shuntMode(str(c, 'mode')) : undefined;
        if (mode && isSection(c)) {
          shunts.push({ conn: name, name: child, mode, localTs: optionalList(c, 'local-ts'), remoteTs: optionalList(c, 'remote-ts') });
        } else {
          children.push(child);
        }
      }
    }
    out.push({
      name,
      kind: viciConnKind(conn),
      ignored: false,
      localAddress: optionalList(conn, 'local_addrs').join(','),
      remoteAddress: optionalList(conn, 'remote_addrs').join(','),
      children,
      shunts,
    });
  }
  return out;
}

/** `get-pools` with leases → pools. */
export function parseGetPools(msg: ViciSection): AddressPool[] {
  return [...sections(msg, 'pool')].map(([name, p]) => ({
    name,
    base: str(p, 'base'),
    size: num(p, 'size') ?? 0,
    online: num(p, 'online') ?? 0,
    offline: num(p, 'offline') ?? 0,
  }));
}

/**
 * One `list-cert` event → a certificate or a CRL. Types other than X509 and X509_CRL
 * (X509_AC, OCSP_RESPONSE, PUBKEY), and data that does not decode, are skipped.
 */
export function parseListCertEvent(event: ViciSection): { certificate?: Certificate; crl?: Crl } {
  const type = str(event, 'type');
  const data = str(event, 'data');
  if (data === undefined) return {};
  const der = Buffer.from(data, 'latin1');
  if (type === 'X509') {
    const flag = str(event, 'flag');
    const certificate = decodeCertificate(der, { hasPrivateKey: str(event, 'has_privkey') === 'yes', ...(flag === 'CA' ? { ca: true } : {}) });
    return certificate ? { certificate } : {};
  }
  if (type === 'X509_CRL') {
    const crl = decodeCrl(der);
    return crl ? { crl } : {};
  }
  return {};
}
