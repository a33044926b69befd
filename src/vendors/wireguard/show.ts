import { ParseError } from '../../util/errors.js';

/**
 * `wg show all dump` (wireguard-tools, wg(8)), filtered on the gateway by DUMP_FILTER_AWK
 * before a byte is sent: dump prints the interface's private key and every peer's
 * preshared key, so the filter prints only the fields named here, each checked against its
 * shape, and never a whole line. What reaches the exporter, tab-separated:
 *
 *   interface lines  name, public key or `(none)`, listen port, fwmark
 *   peer lines       interface, public key, endpoint or `(none)`, allowed IPs (comma-separated
 *                    or `(none)`), latest handshake (0 = never), rx bytes, tx bytes,
 *                    persistent keepalive (`off` or seconds)
 *   `?`              a line of a form the filter does not know (nothing of it is sent)
 *   `@now <seconds>` the gateway's clock, first
 *   `@ifaces …`      the names of the interfaces seen, for the config read that follows
 *
 * wg's dump prints the interface name on every line with `all` (the 1.0.20210914 quirk of
 * `wg show all endpoints`, name on the first line only, is not in dump). The parser is as
 * tolerant: a line of a form it does not know is skipped and counted.
 */

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

const CONFIG_FILTER_FN = [
  'function cfg(line,  l) {',
  '  l = tolower(line); sub(/\\r$/, "", l)',
  '  if (l ~ /(private|preshared)[ \\t_-]*key/) print "-"',
  '  else if (l ~ /^[ \\t]*\\[[a-z]+\\][ \\t]*$/) print l',
  '  else if (l ~ /^[ \\t]*publickey[ \\t]*=/) print line',
  '  else if (l ~ /^[ \\t]*#[ \\t]*(name|friendly_name)[ \\t]*=/) print line',
  '  else if (l ~ /^[ \\t]*$/) print ""',
  '  else if (l ~ /^[ \\t]*[#;]/) print "#"',
  '  else print "-"',
  '}',
].join('\n');

/**
 * Runs on the gateway over `{ wg show all dump; printf '\n%s\n' "$?"; }`. Lines are known by
 * their field count (at least 5 for an interface, 9 for a peer: columns a future wg appends are
 * never printed) and by the shape of the fields that tell them apart (an interface's 4th field is
 * its listen port, a number; a peer's is its endpoint, `(none)` or with a `:`). Of an interface
 * line the 2nd field (the private key) is never printed, of a peer line the 3rd (the preshared
 * key); every printed field must have its expected shape or becomes `?`. The last line is wg's
 * exit status, which awk exits with (99 when it is missing), so a failing wg fails the section.
 * It first prints `@now <Unix time>`: POSIX srand() seeds from the time of day and returns the
 * previous seed, which saves the gateway a `date` process.
 * POSIX awk (mawk 1.3.4, gawk, busybox): no regex intervals.
 */
export const DUMP_FILTER_AWK: string = [
  'function key(s) { return (length(s) == 44 && s ~ /^[A-Za-z0-9+\\/]+=$/) ? s : "?" }',
  'function ifn(s) { return (length(s) <= 15 && s ~ /^[A-Za-z0-9_=+.-]+$/) ? s : "?" }',
  'function num(s) { return s ~ /^[0-9]+$/ ? s : "?" }',
  'BEGIN { FS = "\\t"; srand(); print "@now " srand() }',
  '{ last = $0 }',
  'NF >= 9 && ($4 == "(none)" || $4 ~ /:[0-9]+$/) {',
  '  ep = ($4 == "(none)" || $4 ~ /^[][0-9A-Za-z:.%_-]+$/) ? $4 : "?"',
  '  ips = ($5 == "(none)" || $5 ~ /^[0-9A-Fa-f:.,\\/ ]+$/) ? $5 : "?"',
  '  ka = $9 == "off" ? $9 : num($9)',
  '  print ifn($1) "\\t" key($2) "\\t" ep "\\t" ips "\\t" num($6) "\\t" num($7) "\\t" num($8) "\\t" ka; next',
  '}',
  'NF >= 5 && $4 ~ /^[0-9]+$/ {',
  '  i = ifn($1); if (i != "?" && !(i in seen)) { seen[i] = 1; ifs = ifs " " i }',
  '  pub = $3 == "(none)" ? $3 : key($3)',
  '  fw = ($5 == "off" || $5 ~ /^(0x)?[0-9a-fA-F]+$/) ? $5 : "?"',
  '  print i "\\t" pub "\\t" $4 "\\t" fw; next',
  '}',
  'NF > 1 { print "?" }',
  'END {',
  '  print "@ifaces" ifs',
  '  n = split(ifs, names, " ")',
  '  for (k = 1; k <= n && ENVIRON["VPNX_WG_DIR"] != ""; k++) {',
  '    print "@@ " names[k]; f = ENVIRON["VPNX_WG_DIR"] "/" names[k] ".conf"',
  '    if (ENVIRON["VPNX_WG_PREFIX"] == "") { while ((getline line < f) > 0) cfg(line); close(f) }',
  '    else { c = "exec " ENVIRON["VPNX_WG_PREFIX"] " cat -- \\"$VPNX_WG_DIR/" names[k] ".conf\\" </dev/null 2>/dev/null"; while ((c | getline line) > 0) cfg(line); close(c) }',
  '  }',
  '  exit (last ~ /^[0-9]+$/ ? last + 0 : 99)',
  '}',
  CONFIG_FILTER_FN,
].join('\n');

/** Starts the interface list DUMP_FILTER_AWK prints last. */
export const IFACES_MARK = '@ifaces';

/** The gateway's clock from the `@now` line of the filtered dump. */
export function dumpClock(text: string): number | undefined {
  const m = /^@now (\d{9,11})$/m.exec(text);
  return m ? Number(m[1]) : undefined;
}

function lines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => l.trim() !== '');
}

const uint = (s: string | undefined): number | undefined => (s !== undefined && UINT.test(s) ? Number(s) : undefined);

/**
 * Interfaces and peers from the filtered dump. Throws ParseError only when there are lines
 * but none of a known form (garbage, another program).
 */
export function parseWgDump(text: string): WgShowResult {
  let skipped = 0;
  let known = 0;
  const all = lines(text).filter((l) => !l.startsWith('@'));
  const ifaces = new Map<string, WgInterfaceRecord>();
  const iface = (name: string): WgInterfaceRecord => {
    const found = ifaces.get(name);
    if (found) return found;
    const created: WgInterfaceRecord = { name, peers: [] };
    ifaces.set(name, created);
    return created;
  };
  for (const line of all) {
    const f = line.split('\t');
    const name = f[0] ?? '';
    if (!IFNAME.test(name)) {
      skipped++;
      continue;
    }
    if (f.length === 4) {
      const port = uint(f[2]);
      if ((f[1] !== '(none)' && !WG_KEY.test(f[1] ?? '')) || port === undefined || port > 65535) {
        skipped++;
        continue;
      }
      const i = iface(name);
      i.publicKey = f[1] === '(none)' ? undefined : f[1];
      i.listenPort = port;
      known++;
      continue;
    }
    if (f.length === 8 && WG_KEY.test(f[1] ?? '')) {
      const [, key, endpoint, ips, hs, rx, tx, ka] = f as [string, string, string, string, string, string, string, string];
      const p: WgPeerRecord = { publicKey: key, allowedIps: [] };
      if (ENDPOINT.test(endpoint)) p.endpoint = endpoint;
      else if (endpoint !== '(none)') skipped++;
      if (ips !== '(none)') {
        for (const cidr of ips.split(/[ ,]+/).filter(Boolean)) {
          if (CIDR.test(cidr)) p.allowedIps.push(cidr);
          else skipped++;
        }
      }
      const t = uint(hs);
      p.latestHandshake = t === 0 ? undefined : t;
      p.rxBytes = uint(rx);
      p.txBytes = uint(tx);
      p.persistentKeepalive = ka === 'off' ? undefined : uint(ka);
      iface(name).peers.push(p);
      known++;
      continue;
    }
    skipped++;
  }
  if (all.length > 0 && known === 0) {
    throw new ParseError(`wg show all dump: no line has the expected form (first line: ${JSON.stringify(all[0]?.slice(0, 60))})`);
  }
  return { interfaces: [...ifaces.values()], skippedLines: skipped };
}

/**
 * Runs on the gateway over the config files, so that only what naming needs leaves it:
 * section headers, `PublicKey` lines and `# Name =` / `# friendly_name =` comments pass;
 * blank lines stay blank, other comments become `#`, every other line `-`. A line that
 * mentions a private or preshared key in any spelling becomes `-` first, comment or not.
 * DUMP_FILTER_AWK runs it, after the dump, over <VPNX_WG_DIR>/<interface>.conf of every
 * interface it saw: opened itself, or through `<VPNX_WG_PREFIX> cat` when a command prefix must
 * read root's files. Each file's text starts with CONFIG_MARK and the interface name, which
 * no filtered line can forge (they start with `[`, `#`, `-`, blank or PublicKey).
 * POSIX awk (mawk, gawk, busybox).
 */
/** The config filter alone, over stdin (for tests of the filter itself). */
export const CONFIG_FILTER_AWK = `${CONFIG_FILTER_FN}\n{ cfg($0) }`;

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
