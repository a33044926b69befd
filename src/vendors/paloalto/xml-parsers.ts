import { ParseError } from '../../util/errors.js';
import { blank, type PanosGpStatistics, type PanosGpUser } from './global-protect.js';
import type { PanosHaState } from './high-availability.js';
import { parseCount } from './numbers.js';
import type { PanosIkeSa, PanosIkeSas, PanosIpsecSa } from './sa.js';
import { systemInfoFromFields, type PanosSystemInfo } from './system-info.js';
import type { PanosFlowTunnel, PanosVpnFlow } from './vpn-flow.js';
import { asObject, children, field, text1, type XmlObject } from './xml.js';

/*
 * The `<result>` of each `type=op` command the paloalto-api prober asks, read into the same
 * records the CLI parsers produce, so one snapshot builder serves both probers. Elements are
 * found by name; any other element (releases add them) is read past. Numbers go through
 * parseCount: one beyond 2^53 is left out, as on the CLI side.
 */

/** `<show><system><info/></system></show>`: `<system>` with one element per field. */
export function parseSystemInfoXml(result: XmlObject): PanosSystemInfo {
  const fields: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [k, v] of Object.entries(asObject(result.system))) {
    const t = text1(v);
    if (t !== undefined && !k.startsWith('@')) fields[k.toLowerCase()] = t.trim();
  }
  return systemInfoFromFields(fields, 'not a `show system info` result: no <system> with hostname, model, serial or sw-version');
}

/** `<show><vpn><flow/></vpn></show>`: `<IPSec><entry>` per tunnel (per proxy-id), counts beside. */
export function parseVpnFlowXml(result: XmlObject): PanosVpnFlow {
  if (result.IPSec === undefined && result.num_ipsec === undefined) {
    throw new ParseError('not a `show vpn flow` result: no <IPSec> and no <num_ipsec>');
  }
  const tunnels: PanosFlowTunnel[] = [];
  let skipped = 0;
  const entries = children(result.IPSec, 'entry');
  for (const e of entries) {
    const name = field(e, 'name');
    const id = parseCount(field(e, 'id'));
    if (name === undefined || id === undefined) {
      skipped++;
      continue;
    }
    tunnels.push({
      id,
      name,
      state: field(e, 'state') ?? '',
      monitor: field(e, 'mon') ?? '',
      localIp: field(e, 'localip') ?? '',
      peerIp: field(e, 'peerip') ?? '',
      interface: field(e, 'inner-if') ?? '',
    });
  }
  const totals: PanosVpnFlow['totals'] = { ipsecShown: entries.length };
  const all = parseCount(field(result, 'total'));
  const ipsec = parseCount(field(result, 'num_ipsec'));
  if (all !== undefined) totals.configured = all;
  if (ipsec !== undefined) totals.ipsecConfigured = ipsec;
  return { tunnels, totals, skippedLines: skipped, unknownColumns: [] };
}

/** `<show><high-availability><state/>`: `<enabled>` and, when yes, `<group>` with local and peer info. */
export function parseHaStateXml(result: XmlObject): PanosHaState {
  const enabled = field(result, 'enabled');
  if (enabled === undefined) throw new ParseError('not a `show high-availability state` result: no <enabled>');
  const out: PanosHaState = { enabled: /^(?:yes|true)$/i.test(enabled) };
  if (!out.enabled) return out;
  const group = asObject(result.group);
  const local = asObject(group['local-info']);
  const peer = asObject(group['peer-info']);
  const mode = field(group, 'mode') ?? field(local, 'mode');
  if (mode) out.mode = mode;
  const word = (v: string | undefined) => (v === undefined ? undefined : /^([A-Za-z][\w-]*)/.exec(v)?.[1]?.toLowerCase());
  const localState = word(field(local, 'state'));
  const peerState = word(field(peer, 'state'));
  const conn = word(field(peer, 'conn-status') ?? field(asObject(peer['conn-ha1']), 'conn-status'));
  if (localState) out.localState = localState;
  if (peerState) out.peerState = peerState;
  if (conn) out.peerConnection = conn;
  return out;
}

/**
 * `<show><vpn><ike-sa/>`: one `<entry>` per IKE SA. `<mode>` holds the IKEv1 exchange mode,
 * or `IKEv2` for an IKEv2 SA. No SA at all is an empty result, a valid answer.
 */
export function parseIkeSaXml(result: XmlObject): PanosIkeSas {
  const out: PanosIkeSas = { ikeSas: [], childSas: [] };
  for (const e of [...children(result, 'entry'), ...children(result.entries, 'entry')]) {
    const gateway = field(e, 'name') ?? field(e, 'gateway');
    if (gateway === undefined) continue;
    const mode = field(e, 'mode');
    const v2 = mode !== undefined && /^IKEv2$/i.test(mode);
    const sa: PanosIkeSa = { version: v2 || field(e, 'ike-version') === '2' ? 2 : 1, gateway };
    const gwid = parseCount(field(e, 'gwid'));
    if (gwid !== undefined) sa.gatewayId = gwid;
    const set = (k: 'peerAddress' | 'role' | 'mode' | 'algorithm' | 'established' | 'expiration' | 'state', v: string | undefined) => {
      if (v !== undefined) sa[k] = v;
    };
    set('peerAddress', field(e, 'peer') ?? field(e, 'remote'));
    set('role', field(e, 'role'));
    if (!v2) set('mode', mode);
    set('algorithm', field(e, 'algo'));
    set('established', field(e, 'created'));
    set('expiration', field(e, 'expires'));
    set('state', field(e, 'stat') ?? field(e, 'state'));
    out.ikeSas.push(sa);
  }
  return out;
}

/** `<show><vpn><ipsec-sa/>`: `<entries><entry>` per installed SA pair; `name` is `tunnel[:proxy-id]`. */
export function parseIpsecSaXml(result: XmlObject): PanosIpsecSa[] {
  const out: PanosIpsecSa[] = [];
  for (const e of [...children(result.entries, 'entry'), ...children(result, 'entry')]) {
    const tunnel = field(e, 'name');
    if (tunnel === undefined) continue;
    const sa: PanosIpsecSa = { tunnel };
    const set = (k: 'gateway' | 'peerAddress' | 'spiIn' | 'spiOut' | 'algorithm', v: string | undefined) => {
      if (v !== undefined) sa[k] = v;
    };
    const num = (k: 'gatewayId' | 'tunnelId' | 'lifetimeSeconds' | 'lifetimeKilobytes' | 'remainingSeconds', v: string | undefined) => {
      const n = parseCount(v);
      if (n !== undefined) sa[k] = n;
    };
    set('gateway', field(e, 'gateway'));
    set('peerAddress', field(e, 'remote') ?? field(e, 'peerip'));
    set('spiIn', field(e, 'i_spi'));
    set('spiOut', field(e, 'o_spi'));
    const algo = [field(e, 'proto'), field(e, 'enc'), field(e, 'hash')].filter((p) => p !== undefined);
    if (algo.length > 0) set('algorithm', algo.join('/'));
    num('gatewayId', field(e, 'gwid'));
    num('tunnelId', field(e, 'tid'));
    num('lifetimeSeconds', field(e, 'life'));
    num('lifetimeKilobytes', field(e, 'kb'));
    num('remainingSeconds', field(e, 'remain'));
    out.push(sa);
  }
  return out;
}

/** `<show><global-protect-gateway><statistics/>`: `<Gateway>` per gateway, totals beside. */
export function parseGpStatisticsXml(result: XmlObject): PanosGpStatistics {
  const stats: PanosGpStatistics = { gateways: [] };
  for (const g of children(result, 'Gateway')) {
    const name = field(g, 'name');
    if (name === undefined) continue;
    const gw: PanosGpStatistics['gateways'][number] = { name };
    const cur = parseCount(field(g, 'CurrentUsers'));
    const prev = parseCount(field(g, 'PreviousUsers'));
    if (cur !== undefined) gw.currentUsers = cur;
    if (prev !== undefined) gw.previousUsers = prev;
    stats.gateways.push(gw);
  }
  const tc = parseCount(field(result, 'TotalCurrentUsers'));
  const tp = parseCount(field(result, 'TotalPreviousUsers'));
  if (tc !== undefined) stats.totalCurrentUsers = tc;
  if (tp !== undefined) stats.totalPreviousUsers = tp;
  return stats;
}

/**
 * `<show><global-protect-gateway><current-user/>`: one `<entry>` per user. Entries do not name
 * their gateway; the caller asks per gateway (`<gateway>` filter) and says which it was, or
 * passes the only gateway there is. An entry's own `<gateway>`, where a release prints one, wins.
 */
export function parseGpCurrentUsersXml(result: XmlObject, gateway: string): PanosGpUser[] {
  const users: PanosGpUser[] = [];
  for (const e of children(result, 'entry')) {
    const username = field(e, 'username');
    if (username === undefined) continue;
    const u: PanosGpUser = { gateway: field(e, 'gateway') ?? gateway, username };
    const set = (
      k:
        | 'primaryUsername'
        | 'domain'
        | 'computer'
        | 'client'
        | 'clientOs'
        | 'vpnType'
        | 'virtualIp'
        | 'virtualIpv6'
        | 'publicIp'
        | 'publicIpv6'
        | 'tunnelType'
        | 'loginTime',
      name: string,
    ) => {
      const v = field(e, name);
      if (v !== undefined && !blank(v)) u[k] = v;
    };
    set('primaryUsername', 'primary-username');
    set('domain', 'domain');
    set('computer', 'computer');
    set('client', 'client');
    set('clientOs', 'client-os');
    set('vpnType', 'vpn-type');
    set('virtualIp', 'virtual-ip');
    set('virtualIpv6', 'virtual-ipv6');
    set('publicIp', 'public-ip');
    set('publicIpv6', 'public-ipv6');
    set('tunnelType', 'tunnel-type');
    set('loginTime', 'login-time');
    const login = parseCount(field(e, 'login-time-utc'));
    if (login !== undefined) u.loginEpochSeconds = login;
    users.push(u);
  }
  return users;
}
