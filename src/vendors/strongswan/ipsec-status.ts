import { ParseError } from '../../util/errors.js';
import { parseCharonDuration } from './durations.js';
import { childLine, ikeLine, isChildLine, isIkeLine } from './ipsec-status-sas.js';
import type { IpsecChildSa, IpsecConnection, IpsecIkeSa, IpsecStatus } from './ipsec-status-types.js';

export type * from './ipsec-status-types.js';

const MAX_LINES = 200_000;
const MAX_LINE_LENGTH = 16_384;
/** charon's job priorities, in the order the worker and queue figures are printed. */
const PRIORITIES = ['critical', 'high', 'medium', 'low'];

type Section = 'header' | 'pools' | 'listen' | 'conns' | 'shunted' | 'routed' | 'sas';
const SECTION_TITLES: [RegExp, Section][] = [
  [/^Virtual IP pools \(size\/online\/offline\):$/, 'pools'],
  [/^Listening IP addresses:$/, 'listen'],
  [/^Connections:$/, 'conns'],
  [/^Shunted Connections:$/, 'shunted'],
  [/^Routed Connections:$/, 'routed'],
];

/**
 * Parses the stroke output of `ipsec statusall` or `ipsec status` (strongSwan
 * 5.x), optionally filtered by name. `ipsec status NAME` keeps an IKE_SA whose
 * name matches, or one with a CHILD_SA whose name matches (then only those
 * children), and prints `no match` for a name that is down or unknown, with
 * exit code 0; the SA counts in the header stay daemon-wide. Pure; throws only
 * ParseError, e.g. for the "connecting to ... failed" text of a stopped daemon.
 */
export function parseIpsecStatus(text: string): IpsecStatus {
  const out: IpsecStatus = {
    plugins: [],
    pools: [],
    listeningAddresses: [],
    connections: [],
    shunted: [],
    routed: [],
    sasUp: 0,
    sasConnecting: 0,
    ikeSas: [],
    noMatch: false,
  };
  let section: Section | undefined;
  let sawSas = false;
  let ike: IpsecIkeSa | undefined;
  let child: IpsecChildSa | undefined;
  const lines = text.split('\n');
  if (lines.length > MAX_LINES) throw new ParseError(`ipsec status output has more than ${MAX_LINES} lines`);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const raw = lines[i] ?? '';
    if (raw.length > MAX_LINE_LENGTH) throw new ParseError(`ipsec status line ${lineNo} is too long`);
    const line = raw.trimEnd();
    if (line === '') continue;
    const sas = /^Security Associations \((\d+) up, (\d+) connecting\):$/.exec(line);
    if (sas) {
      out.sasUp = Number(sas[1]);
      out.sasConnecting = Number(sas[2]);
      out.ikeSasTotal ??= out.sasUp + out.sasConnecting;
      out.ikeSasHalfOpen ??= out.sasConnecting;
      section = 'sas';
      sawSas = true;
      continue;
    }
    if (line.startsWith('Status of IKE charon daemon (')) {
      out.daemon = daemonLine(line, lineNo);
      section = 'header';
      continue;
    }
    const title = SECTION_TITLES.find(([re]) => re.test(line));
    if (title) {
      section = title[1];
      continue;
    }
    switch (section) {
      case 'header':
        headerLine(out, line.trim(), lineNo);
        break;
      case 'pools': {
        const m = /^\s+(.+): (\d+)\/(\d+)\/(\d+)$/.exec(line);
        if (!m) break; // a pool line in a wording we do not know: skipped
        out.pools.push({ name: m[1] ?? '', size: Number(m[2]), online: Number(m[3]), offline: Number(m[4]) });
        break;
      }
      case 'listen':
        out.listeningAddresses.push(line.trim());
        break;
      case 'conns':
        connectionLine(out.connections, line, lineNo);
        break;
      case 'shunted': {
        const m = /^\s*(\S+?):\s+(.*?) === (.*) (\S+)$/.exec(line);
        if (!m) break;
        out.shunted.push({ name: m[1] ?? '', localTs: words(m[2]), remoteTs: words(m[3]), mode: m[4] ?? '' });
        break;
      }
      case 'routed':
      case 'sas':
        if (/^\s+(none|no match)$/.test(line)) {
          if (line.trim() === 'no match') out.noMatch = true;
        } else if (isChildLine(line)) {
          const started = childLine(line, child, lineNo);
          if (started) {
            child = started;
            if (section === 'routed') out.routed.push(started);
            else if (ike) ike.children.push(started);
            else throw new ParseError(`line ${lineNo}: CHILD_SA before any IKE_SA`);
          }
        } else if (section === 'sas' && isIkeLine(line)) {
          const started = ikeLine(line, ike, lineNo);
          if (started) {
            ike = started;
            child = undefined;
            out.ikeSas.push(started);
          }
        }
        // Anything else under the SAs (a line a release added) is skipped.
        break;
      default:
        throw new ParseError(`line ${lineNo}: not ipsec status output: ${JSON.stringify(line.trim().slice(0, 60))}`);
    }
  }
  if (!sawSas) throw new ParseError('ipsec status output without a "Security Associations" line');
  return out;
}

function words(text: string | undefined): string[] {
  return (text ?? '').trim().split(/\s+/).filter(Boolean);
}

function daemonLine(line: string, lineNo: number): NonNullable<IpsecStatus['daemon']> {
  const m = /^Status of IKE charon daemon \(((?:strong|weak)Swan) ([^,()]+)(?:, (.+), ([^,]+))?\):$/.exec(line);
  if (!m) throw new ParseError(`line ${lineNo}: unrecognised daemon line`);
  const daemon: NonNullable<IpsecStatus['daemon']> = { product: m[1] ?? '', version: m[2] ?? '' };
  if (m[3] !== undefined) daemon.system = m[3];
  if (m[4] !== undefined) daemon.machine = m[4];
  return daemon;
}

function perPriority(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  text.split('/').forEach((n, i) => {
    out[PRIORITIES[i] ?? `priority${i}`] = Number(n);
  });
  return out;
}

function headerLine(out: IpsecStatus, line: string, lineNo: number): void {
  const uptime = /^uptime: (.+?), since (.+)$/.exec(line);
  if (uptime && out.daemon) {
    const seconds = parseCharonDuration(uptime[1] ?? '');
    if (seconds !== undefined) out.daemon.uptimeSeconds = seconds;
    out.daemon.since = uptime[2] ?? '';
    return;
  }
  const workers = /^worker threads: (\d+) of (\d+) idle, ([\d/]+) working, job queue: ([\d/]+), scheduled: (\d+)$/.exec(line);
  if (workers) {
    out.workers = { total: Number(workers[2]), idle: Number(workers[1]), active: perPriority(workers[3] ?? '') };
    out.queues = perPriority(workers[4] ?? '');
    out.scheduled = Number(workers[5]);
    return;
  }
  const plugins = /^loaded plugins: (.*)$/.exec(line);
  if (plugins) {
    out.plugins = words(plugins[1]);
    return;
  }
  // Not printed by 5.9.8's stroke plugin, but accepted should a build add it.
  const ikeSas = /^IKE_SAs: (\d+) total, (\d+) half-open$/.exec(line);
  if (ikeSas) {
    out.ikeSasTotal = Number(ikeSas[1]);
    out.ikeSasHalfOpen = Number(ikeSas[2]);
    return;
  }
  // malloc:, and header lines of releases we have not seen: nothing the exporter needs.
  void lineNo;
}

const CONN_MAIN = /^\s*(\S+?): {2}(\S*)\.\.\.(\S*) {2}(IKEv[12/]+|IKE)( Aggressive)?(?:, dpddelay=(\d+)s)?$/;
const CONN_AUTH = /^\s*(\S+?): {3}(local: |remote:) (?:\[(.*)\] )?uses (.*)$/;
const CONN_CHILD = /^\s*(\S+?): {3}child: {2}(.*?) === (.*?) ?([A-Z_]+)(?:, dpdaction=(\S+))?$/;

function connectionLine(conns: IpsecConnection[], line: string, lineNo: number): void {
  const main = CONN_MAIN.exec(line);
  if (main) {
    const conn: IpsecConnection = {
      name: main[1] ?? '',
      localAddresses: main[2] ?? '',
      remoteAddresses: main[3] ?? '',
      ikeVersion: main[4] ?? '',
      aggressive: main[5] !== undefined,
      localAuth: [],
      remoteAuth: [],
      children: [],
    };
    if (main[6] !== undefined) conn.dpdDelaySeconds = Number(main[6]);
    conns.push(conn);
    return;
  }
  // Detail lines name their conn. stroke merges a conn whose peer settings equal an earlier conn's
  // into that conn's peer config as one more child, printed by its own name under the other's main
  // line (`net-b:   child:` after `net-a:  ...`; seen with 5.9.8 for a type=drop conn too), so a
  // detail for an unseen name starts that conn.
  const name = /^\s*(\S+?):/.exec(line)?.[1];
  if (name === undefined) return;
  let conn = [...conns].reverse().find((c) => c.name === name);
  if (!conn) {
    conn = { name, localAddresses: '', remoteAddresses: '', ikeVersion: '', aggressive: false, localAuth: [], remoteAuth: [], children: [] };
    conns.push(conn);
  }
  const auth = CONN_AUTH.exec(line);
  if (auth) {
    const entry = auth[3] === undefined ? { uses: auth[4] ?? '' } : { id: auth[3], uses: auth[4] ?? '' };
    (auth[2] === 'remote:' ? conn.remoteAuth : conn.localAuth).push(entry);
    return;
  }
  const child = CONN_CHILD.exec(line);
  if (child) {
    const entry: IpsecConnection['children'][number] = {
      name: child[1] ?? '',
      localTs: words(child[2]),
      remoteTs: words(child[3]),
      mode: child[4] ?? '',
    };
    if (child[5] !== undefined) entry.dpdAction = child[5];
    conn.children.push(entry);
    return;
  }
  // Certificate, CA, OCSP/CRL policy and group lines under an auth round, and whatever a release
  // adds (e.g. the "   ppk:" line): nothing the exporter needs, and no reason to fail the probe.
  void lineNo;
}
