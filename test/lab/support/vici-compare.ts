// What swanctl says about a charon, and what the exporter answered, in shapes a test can compare.
// swanctl's `--pretty` output is the daemon's VICI message printed one item a line, so reading it is
// unambiguous (the single-line `--raw` form is not: values such as "3 seconds" contain spaces).

/** A VICI message as swanctl --pretty prints it. */
export type PrettyValue = string | string[] | PrettySection;
export interface PrettySection {
  [key: string]: PrettyValue;
}

/** One top-level message of the output: `list-sa event { … }`, `list-sas reply { … }`. */
export interface PrettyMessage {
  name: string;
  type: 'event' | 'reply';
  body: PrettySection;
}

/** Parses `swanctl <command> --pretty`; throws on anything it does not recognise. */
export function parsePretty(text: string): PrettyMessage[] {
  const messages: PrettyMessage[] = [];
  const stack: PrettySection[] = [];
  let list: string[] | undefined;
  const lines = text.split('\n');
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '') continue;
    const fail = (what: string) => {
      throw new Error(`swanctl --pretty line ${i + 1}: ${what}: ${JSON.stringify(raw)}`);
    };
    if (list) {
      if (line === ']') list = undefined;
      else list.push(line);
      continue;
    }
    const top = stack[stack.length - 1];
    if (top === undefined) {
      const m = /^(\S+) (event|reply) \{$/.exec(line);
      if (!m) return fail('expected `<name> event|reply {`');
      const body: PrettySection = {};
      messages.push({ name: m[1] as string, type: m[2] as 'event' | 'reply', body });
      stack.push(body);
      continue;
    }
    if (line === '}') {
      stack.pop();
      continue;
    }
    let m = /^(\S+) \{$/.exec(line);
    if (m) {
      const section: PrettySection = {};
      top[m[1] as string] = section;
      stack.push(section);
      continue;
    }
    m = /^(\S+) = \[$/.exec(line);
    if (m) {
      list = [];
      top[m[1] as string] = list;
      continue;
    }
    m = /^(\S+) =(?: (.*))?$/.exec(line);
    if (m) {
      top[m[1] as string] = m[2] ?? '';
      continue;
    }
    fail('unrecognised line');
  }
  if (stack.length > 0 || list) throw new Error(`swanctl --pretty output ends inside a section:\n${text}`);
  return messages;
}

function str(s: PrettySection, key: string): string | undefined {
  const v = s[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new Error(`swanctl field ${key} is not a value: ${JSON.stringify(v)}`);
  return v;
}

function num(s: PrettySection, key: string): number | undefined {
  const v = str(s, key);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new Error(`swanctl field ${key} is not a number: ${v}`);
  return Number(v);
}

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`swanctl output lacks ${what}`);
  return value;
}

function lst(s: PrettySection, key: string): string[] {
  const v = s[key];
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new Error(`swanctl field ${key} is not a list: ${JSON.stringify(v)}`);
  return v;
}

function sec(s: PrettySection, key: string): PrettySection | undefined {
  const v = s[key];
  if (v === undefined) return undefined;
  if (typeof v === 'string' || Array.isArray(v)) throw new Error(`swanctl field ${key} is not a section`);
  return v;
}

function namedSections(s: PrettySection): [string, PrettySection][] {
  return Object.entries(s).map(([name, v]) => {
    if (typeof v === 'string' || Array.isArray(v)) throw new Error(`swanctl: ${name} is not a section`);
    return [name, v];
  });
}

function events(text: string, event: string, reply: string): PrettyMessage[] {
  const messages = parsePretty(text);
  const last = messages[messages.length - 1];
  if (last?.name !== reply || last.type !== 'reply') throw new Error(`swanctl output does not end with "${reply} reply":\n${text}`);
  const out = messages.slice(0, -1);
  for (const m of out) if (m.name !== event || m.type !== 'event') throw new Error(`unexpected ${m.name} ${m.type} in:\n${text}`);
  return out;
}

/** The body of a command's only message, its reply. */
function reply(text: string, name: string): PrettySection {
  const messages = parsePretty(text);
  const only = messages[0];
  if (messages.length !== 1 || only?.name !== name || only.type !== 'reply') throw new Error(`expected one "${name} reply" in:\n${text}`);
  return only.body;
}

export interface SwanctlChildSa {
  /** The configured child's name (the section key is "<name>-<uniqueid>"). */
  name: string;
  uniqueId: string;
  state: string;
  bytesIn: number;
  bytesOut: number;
  packetsIn: number;
  packetsOut: number;
  rekeySeconds?: number;
  lifeSeconds?: number;
  installSeconds?: number;
}

export interface SwanctlIkeSa {
  conn: string;
  uniqueId: string;
  version: number;
  state: string;
  /** EAP or XAuth identity, when the peer logged in as a user. */
  userId?: string;
  remoteId?: string;
  remoteHost?: string;
  virtualIps: string[];
  establishedSeconds?: number;
  rekeySeconds?: number;
  children: SwanctlChildSa[];
}

export interface SwanctlConn {
  name: string;
  version: string;
  remoteAddrs: string[];
  children: string[];
  /** Each child's mode as list-conns prints it (TUNNEL, PASS, DROP, ...). */
  modes: Record<string, string>;
}

export interface SwanctlPool {
  name: string;
  base: string;
  size: number;
  online: number;
  offline: number;
  leases: { address: string; identity: string; status: string }[];
}

/** Everything one round of swanctl commands reported, plus the texts for failure messages. */
export interface SwanctlView {
  daemon: { product: string; version: string; os: string };
  /** `running` is charon's truncated uptime, as the range of seconds it stands for. */
  stats: { ikeSasTotal: number; ikeSasHalfOpen: number; running: { min: number; max: number } };
  conns: SwanctlConn[];
  sas: SwanctlIkeSa[];
  pools: SwanctlPool[];
  text: string;
}

export type Swanctl = (args: string[]) => Promise<string>;

/** Asks the daemon, one command after the other: version, stats, list-sas, list-conns, list-pools. */
export async function readSwanctl(swanctl: Swanctl): Promise<SwanctlView> {
  const texts: string[] = [];
  const ask = async (args: string[]) => {
    const out = await swanctl(args);
    texts.push(`$ swanctl ${args.join(' ')}\n${out}`);
    return out;
  };
  // The human form here, so the version is the one swanctl itself shows people.
  const versionLine = (await ask(['--version', '--daemon'])).trim();
  const v = /^strongSwan (\S+) (\S+) \((.*)\)$/.exec(versionLine);
  if (!v) throw new Error(`unexpected swanctl --version --daemon output: ${versionLine}`);
  const [, version, product, osParts] = v as unknown as [string, string, string, string];

  const stats = reply(await ask(['--stats', '--pretty']), 'stats');
  const ikesas = need(sec(stats, 'ikesas'), 'stats ikesas');
  const running = need(str(need(sec(stats, 'uptime'), 'stats uptime'), 'running'), 'stats uptime running');
  // charon prints the uptime with %V: truncated, in seconds up to 2 minutes, then minutes, hours, days.
  const r = /^(\d+) (second|minute|hour|day)s?$/.exec(running);
  if (!r) throw new Error(`unexpected uptime in swanctl --stats: "${running}"`);
  const unit = { second: 1, minute: 60, hour: 3600, day: 86400 }[r[2] as 'second'];
  const runningSeconds = { min: Number(r[1]) * unit, max: (Number(r[1]) + 1) * unit - 1 };

  const sas: SwanctlIkeSa[] = [];
  for (const event of events(await ask(['--list-sas', '--pretty']), 'list-sa', 'list-sas')) {
    for (const [conn, sa] of namedSections(event.body)) {
      const children = namedSections(sec(sa, 'child-sas') ?? {}).map(
        ([key, c]): SwanctlChildSa => ({
          name: str(c, 'name') ?? key.replace(/-\d+$/, ''),
          uniqueId: need(str(c, 'uniqueid'), 'child uniqueid'),
          state: need(str(c, 'state'), 'child state'),
          bytesIn: need(num(c, 'bytes-in'), 'bytes-in'),
          bytesOut: need(num(c, 'bytes-out'), 'bytes-out'),
          packetsIn: need(num(c, 'packets-in'), 'packets-in'),
          packetsOut: need(num(c, 'packets-out'), 'packets-out'),
          rekeySeconds: num(c, 'rekey-time'),
          lifeSeconds: num(c, 'life-time'),
          installSeconds: num(c, 'install-time'),
        }),
      );
      sas.push({
        conn,
        uniqueId: need(str(sa, 'uniqueid'), 'IKE_SA uniqueid'),
        version: need(num(sa, 'version'), 'IKE_SA version'),
        state: need(str(sa, 'state'), 'IKE_SA state'),
        userId: str(sa, 'remote-eap-id') ?? str(sa, 'remote-xauth-id'),
        remoteId: str(sa, 'remote-id'),
        remoteHost: str(sa, 'remote-host'),
        virtualIps: lst(sa, 'remote-vips'),
        establishedSeconds: num(sa, 'established'),
        rekeySeconds: num(sa, 'rekey-time'),
        children,
      });
    }
  }

  const conns: SwanctlConn[] = [];
  for (const event of events(await ask(['--list-conns', '--pretty']), 'list-conn', 'list-conns')) {
    for (const [name, conn] of namedSections(event.body)) {
      conns.push({
        name,
        version: str(conn, 'version') ?? '',
        remoteAddrs: lst(conn, 'remote_addrs'),
        children: Object.keys(sec(conn, 'children') ?? {}),
        modes: Object.fromEntries(namedSections(sec(conn, 'children') ?? {}).map(([child, c]) => [child, str(c, 'mode') ?? ''])),
      });
    }
  }

  const poolsReply = reply(await ask(['--list-pools', '--leases', '--pretty']), 'get-pools');
  const pools = namedSections(poolsReply).map(
    ([name, p]): SwanctlPool => ({
      name,
      base: need(str(p, 'base'), 'pool base'),
      size: need(num(p, 'size'), 'pool size'),
      online: need(num(p, 'online'), 'pool online'),
      offline: need(num(p, 'offline'), 'pool offline'),
      leases: namedSections(sec(p, 'leases') ?? {}).map(([, l]) => ({
        address: need(str(l, 'address'), 'lease address'),
        identity: need(str(l, 'identity'), 'lease identity'),
        status: need(str(l, 'status'), 'lease status'),
      })),
    }),
  );

  return {
    daemon: { product, version, os: osParts.split(', ').join(' ') },
    stats: {
      ikeSasTotal: need(num(ikesas, 'total'), 'ikesas total'),
      ikeSasHalfOpen: need(num(ikesas, 'half-open'), 'ikesas half-open'),
      running: runningSeconds,
    },
    conns,
    sas,
    pools,
    text: texts.join('\n'),
  };
}

/**
 * The facts of a reading that do not move while nothing happens on the gateway: which conns, SAs (by
 * unique id), children, users, addresses and leases there are. Counters and timers are left out.
 */
export function stableFacts(v: SwanctlView): string {
  return JSON.stringify({
    daemon: v.daemon,
    ikeSas: [v.stats.ikeSasTotal, v.stats.ikeSasHalfOpen],
    conns: v.conns,
    sas: v.sas
      .map((sa) => ({
        conn: sa.conn,
        id: sa.uniqueId,
        state: sa.state,
        user: userOf(sa),
        vips: sa.virtualIps,
        children: sa.children.map((c) => [c.name, c.uniqueId, c.state]),
      }))
      .sort((a, b) => Number(a.id) - Number(b.id)),
    pools: v.pools,
  });
}

/** The user a session belongs to, as the exporter's help text defines it: login identity, else the peer's IKE identity. */
export function userOf(sa: SwanctlIkeSa): string {
  return sa.userId ?? sa.remoteId ?? sa.remoteHost ?? 'unknown';
}

/** Child SAs of one conn's child across all its IKE_SAs. */
export function childSas(v: SwanctlView, conn: string, child: string): SwanctlChildSa[] {
  return v.sas.filter((sa) => sa.conn === conn).flatMap((sa) => sa.children.filter((c) => c.name === child));
}

export function sumOf<T>(items: readonly T[], f: (item: T) => number): number {
  return items.reduce((n, item) => n + f(item), 0);
}

/** Smallest/largest known value, undefined when none is known. */
export function minOf<T>(items: readonly T[], f: (item: T) => number | undefined): number | undefined {
  const known = items.map(f).filter((x): x is number => x !== undefined);
  return known.length > 0 ? Math.min(...known) : undefined;
}

export function maxOf<T>(items: readonly T[], f: (item: T) => number | undefined): number | undefined {
  const known = items.map(f).filter((x): x is number => x !== undefined);
  return known.length > 0 ? Math.max(...known) : undefined;
}

// --- the exporter's side ---------------------------------------------------------------------------

export { labelValues, matching, samples, type Sample } from '../../support/exposition.js';
