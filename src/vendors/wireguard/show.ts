import { ParseError } from '../../util/errors.js';

/**
 * Parsers for `wg show all <field>` (wireguard-tools, wg(8)): one line per interface or
 * per peer, tab-separated, the interface name first. The private key is never among the
 * fields read here: `wg show all dump` and `wg show all private-key` print it, so the
 * prober never runs them.
 *
 * Lines are matched by shape: a line of a form we do not know (an extra column, a new
 * value syntax, a warning) is skipped and counted; only a section where no line at all
 * has the expected form fails the probe.
 */

/** The fields the prober asks for, one `wg show all <field>` each. */
export const WG_FIELDS = ['public-key', 'listen-port', 'peers', 'endpoints', 'allowed-ips', 'latest-handshakes', 'transfer', 'persistent-keepalive'] as const;
export type WgField = (typeof WG_FIELDS)[number];

export interface WgPeerRecord {
  publicKey: string;
  /** `host:port` or `[v6]:port`; undefined for `(none)` (never heard from, no endpoint configured). */
  endpoint?: string;
  allowedIps: string[];
  /** Unix time of the latest handshake; undefined when there was none (wg prints 0). */
  latestHandshake?: number;
  rxBytes?: number;
  txBytes?: number;
  /** Seconds; undefined when off. */
  persistentKeepalive?: number;
}

export interface WgInterfaceRecord {
  name: string;
  /** Undefined when the interface has no private key yet (`(none)`). */
  publicKey?: string;
  listenPort?: number;
  peers: WgPeerRecord[];
}

export interface WgShowResult {
  interfaces: WgInterfaceRecord[];
  /** Lines of a form we do not know, skipped. */
  skippedLines: number;
}

/** A Curve25519 key in base64: 32 bytes, 43 characters and one `=`. */
export const WG_KEY = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;
/** Linux interface names: at most 15 bytes, no `/`, whitespace or `:`; wg itself allows these. */
const IFNAME = /^[A-Za-z0-9_=+.-]{1,15}$/;
const UINT = /^\d{1,20}$/;
const CIDR = /^[0-9A-Fa-f:.]{2,45}\/\d{1,3}$/;
const ENDPOINT = /^(\[[0-9A-Fa-f:.%\w-]{2,64}\]|[0-9.]{7,15}):\d{1,5}$/;

interface PeerLine {
  iface?: string;
  key: string;
  values: string[];
}

function lines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => l.trim() !== '');
}

const uint = (s: string | undefined): number | undefined => (s !== undefined && UINT.test(s) ? Number(s) : undefined);

/**
 * Splits the output of every field into interfaces and peers. Throws ParseError only when
 * a field's output has lines but none of the expected form (garbage, another program).
 */
export function parseWgShowAll(out: Readonly<Record<WgField, string>>): WgShowResult {
  let skipped = 0;
  const ifaces = new Map<string, WgInterfaceRecord>();
  const iface = (name: string): WgInterfaceRecord => {
    const known = ifaces.get(name);
    if (known) return known;
    const created: WgInterfaceRecord = { name, peers: [] };
    ifaces.set(name, created);
    return created;
  };
  /** Per field: the lines that parsed, or a ParseError naming the field when none did. */
  const take = <T>(field: WgField, parse: (fields: string[]) => T | undefined): T[] => {
    const all = lines(out[field]);
    const good: T[] = [];
    for (const line of all) {
      const v = parse(line.split('\t'));
      if (v === undefined) skipped++;
      else good.push(v);
    }
    if (all.length > 0 && good.length === 0) {
      const sample = JSON.stringify(all[0]?.slice(0, 60));
      throw new ParseError(`wg show all ${field}: no line has the expected form (first line: ${sample})`);
    }
    return good;
  };
  const ifaceLine = (f: string[]): { iface: string; value: string } | undefined =>
    f.length >= 2 && IFNAME.test(f[0] ?? '') ? { iface: f[0] as string, value: f[1] as string } : undefined;
  // wireguard-tools 1.0.20210914 prints the interface name only on the first `endpoints` line
  // of each interface; the others start with the key, which no interface name can be (44 > 15).
  const peerLine = (f: string[], arity: number): PeerLine | undefined => {
    if (f.length >= 1 + arity && IFNAME.test(f[0] ?? '') && WG_KEY.test(f[1] ?? '')) {
      return { iface: f[0], key: f[1] as string, values: f.slice(2) };
    }
    if (f.length >= arity && WG_KEY.test(f[0] ?? '')) return { key: f[0] as string, values: f.slice(1) };
    return undefined;
  };

  for (const l of take('public-key', (f) => {
    const v = ifaceLine(f);
    return v && (v.value === '(none)' || WG_KEY.test(v.value)) ? v : undefined;
  })) {
    iface(l.iface).publicKey = l.value === '(none)' ? undefined : l.value;
  }
  for (const l of take('listen-port', (f) => {
    const v = ifaceLine(f);
    const port = uint(v?.value);
    return v && port !== undefined && port <= 65535 ? { iface: v.iface, port } : undefined;
  })) {
    iface(l.iface).listenPort = l.port;
  }

  // Peers by interface and key; `peers` gives the order, every other field may add to it.
  const peers = new Map<string, WgPeerRecord>();
  const peerKey = (i: string, k: string) => `${i}\u0000${k}`;
  const peerOf = (l: PeerLine): WgPeerRecord | undefined => {
    let name = l.iface;
    if (name === undefined) {
      // Only a key that exactly one interface knows can be placed.
      const owners = [...ifaces.values()].filter((i) => i.peers.some((p) => p.publicKey === l.key));
      if (owners.length !== 1) {
        skipped++;
        return undefined;
      }
      name = (owners[0] as WgInterfaceRecord).name;
    }
    const k = peerKey(name, l.key);
    let p = peers.get(k);
    if (!p) {
      p = { publicKey: l.key, allowedIps: [] };
      peers.set(k, p);
      iface(name).peers.push(p);
    }
    return p;
  };

  for (const l of take('peers', (f) =>
    f.length >= 2 && IFNAME.test(f[0] ?? '') && WG_KEY.test(f[1] ?? '') ? { iface: f[0], key: f[1] as string, values: [] } : undefined,
  )) {
    peerOf(l);
  }
  for (const l of take('endpoints', (f) => {
    const p = peerLine(f, 2);
    const v = p?.values[0];
    return p && v !== undefined && (v === '(none)' || ENDPOINT.test(v)) ? p : undefined;
  })) {
    const p = peerOf(l);
    if (p && l.values[0] !== '(none)') p.endpoint = l.values[0];
  }
  for (const l of take('allowed-ips', (f) => {
    const p = peerLine(f, 2);
    return p && p.values[0] !== undefined ? p : undefined;
  })) {
    const p = peerOf(l);
    if (!p) continue;
    const list = l.values[0] === '(none)' ? [] : (l.values[0] ?? '').split(/[ ,]+/).filter(Boolean);
    for (const cidr of list) {
      if (CIDR.test(cidr)) p.allowedIps.push(cidr);
      else skipped++;
    }
  }
  for (const l of take('latest-handshakes', (f) => {
    const p = peerLine(f, 2);
    return p && uint(p.values[0]) !== undefined ? p : undefined;
  })) {
    const p = peerOf(l);
    const t = uint(l.values[0]) as number;
    if (p) p.latestHandshake = t === 0 ? undefined : t;
  }
  for (const l of take('transfer', (f) => {
    const p = peerLine(f, 3);
    return p && uint(p.values[0]) !== undefined && uint(p.values[1]) !== undefined ? p : undefined;
  })) {
    const p = peerOf(l);
    if (!p) continue;
    p.rxBytes = uint(l.values[0]);
    p.txBytes = uint(l.values[1]);
  }
  for (const l of take('persistent-keepalive', (f) => {
    const p = peerLine(f, 2);
    const v = p?.values[0];
    return p && (v === 'off' || uint(v) !== undefined) ? p : undefined;
  })) {
    const p = peerOf(l);
    if (p) p.persistentKeepalive = l.values[0] === 'off' ? undefined : uint(l.values[0]);
  }
  return { interfaces: [...ifaces.values()], skippedLines: skipped };
}

/**
 * Runs on the gateway over each config file, so that only what naming needs leaves it:
 * section headers, `PublicKey` lines and `# Name =` / `# friendly_name =` comments pass;
 * blank lines stay blank, other comments become `#`, every other line `-`. A line that
 * mentions a private or preshared key in any spelling becomes `-` first, comment or not.
 * POSIX awk (mawk, gawk, busybox).
 */
export const CONFIG_FILTER_AWK = [
  '{ l = tolower($0); sub(/\\r$/, "", l) }',
  'l ~ /(private|preshared)[ \\t_-]*key/ { print "-"; next }',
  'l ~ /^[ \\t]*\\[[a-z]+\\][ \\t]*$/ { print l; next }',
  'l ~ /^[ \\t]*publickey[ \\t]*=/ { print $0; next }',
  'l ~ /^[ \\t]*#[ \\t]*(name|friendly_name)[ \\t]*=/ { print $0; next }',
  'l ~ /^[ \\t]*$/ { print ""; next }',
  'l ~ /^[ \\t]*[#;]/ { print "#"; next }',
  '{ print "-" }',
].join('\n');

/** Starts the filtered text of one interface's config file in the prober's output. */
export const CONFIG_MARK = '@@ ';

const NAME_COMMENT = /^\s*#\s*(?:name|friendly_name)\s*=\s*(.*?)\s*$/i;
const PUBLIC_KEY_LINE = /^\s*publickey\s*=\s*(\S+)\s*$/i;
const HEADER = /^\s*\[([a-z]+)\]\s*$/i;

/** A name fit for a label value and a page: printable, trimmed, at most 64 characters. */
export function cleanPeerName(raw: string): string | undefined {
  let s = raw.trim();
  if (s.length >= 2 && ((s.startsWith('"') && s.endsWith('"')) || (s.startsWith("'") && s.endsWith("'")))) s = s.slice(1, -1).trim();
  s = s.replace(/[\u0000-\u001f\u007f]/g, '');
  s = [...s].slice(0, 64).join('');
  return s === '' ? undefined : s;
}

/**
 * Peer names from the filtered config files: a map interface -> public key -> name.
 *
 * A name comment names the peer of the `[Peer]` header it stands above (with only blank
 * lines and comments between), or, when a key line of a `[Peer]` section follows it first,
 * the peer of the section it stands in (the `# friendly_name` convention of
 * prometheus_wireguard_exporter). The last name comment before a peer wins.
 */
export function parseWgConfigNames(text: string): Map<string, Map<string, string>> {
  const result = new Map<string, Map<string, string>>();
  let names: Map<string, string> | undefined;
  let inPeer = false;
  let peer: { key?: string; name?: string } = {};
  let pending: string | undefined;
  const flush = () => {
    if (names && inPeer && peer.key && peer.name && !names.has(peer.key)) names.set(peer.key, peer.name);
    peer = {};
  };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line.startsWith(CONFIG_MARK)) {
      if (inPeer && pending) peer.name = pending;
      flush();
      inPeer = false;
      pending = undefined;
      const iface = line.slice(CONFIG_MARK.length).trim();
      names = result.get(iface) ?? new Map();
      result.set(iface, names);
      continue;
    }
    if (!names) continue;
    const header = HEADER.exec(line);
    if (header) {
      flush();
      inPeer = header[1]?.toLowerCase() === 'peer';
      if (inPeer && pending) peer.name = pending;
      pending = undefined;
      continue;
    }
    const named = NAME_COMMENT.exec(line);
    if (named) {
      pending = cleanPeerName(named[1] ?? '') ?? pending;
      continue;
    }
    if (line.trim() === '' || line.trim() === '#') continue;
    // A key line: a name waiting above it belongs to this section.
    if (inPeer && pending) peer.name = pending;
    pending = undefined;
    const pk = PUBLIC_KEY_LINE.exec(line);
    if (pk && inPeer && WG_KEY.test(pk[1] ?? '')) peer.key = pk[1];
  }
  if (inPeer && pending) peer.name = pending;
  flush();
  return result;
}
