import { ParseError } from '../../util/errors.js';
import { parseCharonDuration } from './durations.js';
import type { IpsecChildSa, IpsecIkeSa } from './ipsec-status-types.js';

const IKE_LINE = /^\s*(\S+?)\[(\d+)\]: (.*)$/;
const CHILD_LINE = /^\s*(\S+?)\{(\d+)\}: (.*)$/;
const IKE_MAIN = /^([A-Z_]+)(?: (.+) ago)?, (.*)$/;
const CHILD_MAIN = /^([A-Z_]+), ([A-Z_]+?)(_PROXY)?(?:, reqid (\d+))?((?:, .*)?)$/;
const CHILD_SPIS = /^, (ESP|AH|IPCOMP)( in UDP)? SPIs: ([0-9a-f]+)_i ([0-9a-f]+)_o/;
const CHILD_TRAFFIC =
  /^(.*?), ?(\d+) bytes_i(?: \((\d+) pkts?, (\d+)s ago\))?, (\d+) bytes_o(?: \((\d+) pkts?, (\d+)s ago\))?, rekeying (active|disabled|in (.+))$/;

export function isIkeLine(line: string): boolean {
  return IKE_LINE.test(line);
}

export function isChildLine(line: string): boolean {
  return CHILD_LINE.test(line);
}

/** A duration we cannot read (a future wording) leaves the field out rather than failing the probe. */
function duration(text: string, where: string): number | undefined {
  void where;
  return parseCharonDuration(text);
}

/** `host[id]` as %H[%Y] prints it; ids may hold spaces and commas (DNs) but hosts never hold brackets. */
function endpoint(text: string): { host?: string; id?: string } {
  const open = text.indexOf('[');
  if (open < 0 || !text.endsWith(']')) return { host: text };
  return { host: text.slice(0, open), id: text.slice(open + 1, -1) };
}

/** Applies one `name[id]: ...` line; returns the SA it started, if it was an SA's first line. */
export function ikeLine(line: string, current: IpsecIkeSa | undefined, lineNo: number): IpsecIkeSa | undefined {
  const [, conn = '', uniqueId = '', rest = ''] = IKE_LINE.exec(line) ?? [];
  const where = `line ${lineNo}`;
  const main = IKE_MAIN.exec(rest);
  if (main && rest.includes('...')) {
    const sa: IpsecIkeSa = { conn, uniqueId, state: main[1] ?? '', virtualIps: [], children: [] };
    const established = main[2] !== undefined ? duration(main[2], where) : undefined;
    if (established !== undefined) sa.establishedSeconds = established;
    const hosts = main[3] ?? '';
    const split = hosts.indexOf(']...');
    const [local, remote] = split >= 0 ? [hosts.slice(0, split + 1), hosts.slice(split + 4)] : hosts.split('...');
    const l = endpoint(local ?? '');
    const r = endpoint(remote ?? '');
    if (l.host !== undefined) sa.localHost = l.host;
    if (l.id !== undefined) sa.localId = l.id;
    if (r.host !== undefined) sa.remoteHost = r.host;
    if (r.id !== undefined) sa.remoteId = r.id;
    return sa;
  }
  if (!current || current.conn !== conn || current.uniqueId !== uniqueId) {
    throw new ParseError(`${where}: detail for ${conn}[${uniqueId}] before its IKE_SA line`);
  }
  const identity = /^Remote (EAP|XAuth) identity: (.*)$/.exec(rest);
  if (identity) {
    current.remoteUserIdKind = identity[1] === 'EAP' ? 'EAP' : 'XAuth';
    current.remoteUserId = identity[2] ?? '';
    return undefined;
  }
  const spis = /^IKEv([12]) SPIs: [0-9a-f]+_i(\*?) [0-9a-f]+_r\*?(.*)$/.exec(rest);
  if (spis) {
    current.version = Number(spis[1]);
    current.initiator = spis[2] === '*';
    const rekey = /, rekeying in ([^,]+)/.exec(spis[3] ?? '');
    const rekeyIn = rekey ? duration(rekey[1] ?? '', where) : undefined;
    if (rekeyIn !== undefined) current.rekeySeconds = rekeyIn;
    const reauth = /reauthentication in ([^,]+)/.exec(spis[3] ?? '');
    const reauthIn = reauth ? duration(reauth[1] ?? '', where) : undefined;
    if (reauthIn !== undefined) current.reauthSeconds = reauthIn;
    return undefined;
  }
  const proposal = /^IKE proposal: (.*)$/.exec(rest);
  if (proposal) current.proposal = proposal[1] ?? '';
  // Task queues and lines added by later releases carry nothing the exporter needs.
  return undefined;
}

/** Applies one `name{id}: ...` line; returns the child it started, if it was a child's first line. */
export function childLine(line: string, current: IpsecChildSa | undefined, lineNo: number): IpsecChildSa | undefined {
  const [, name = '', uniqueId = '', rest = ''] = CHILD_LINE.exec(line) ?? [];
  const where = `line ${lineNo}`;
  const body = rest.trim();
  const main = CHILD_MAIN.exec(body);
  if (main) {
    const child: IpsecChildSa = {
      name,
      uniqueId,
      state: main[1] ?? '',
      mode: `${main[2] ?? ''}${main[3] ?? ''}`,
      ...(main[4] !== undefined ? { reqid: Number(main[4]) } : {}),
      localTs: [],
      remoteTs: [],
    };
    const tail = main[5] ?? '';
    const spis = CHILD_SPIS.exec(tail);
    if (spis) {
      child.protocol = spis[1] ?? '';
      child.encap = spis[2] !== undefined;
      child.spiIn = spis[3] ?? '';
      child.spiOut = spis[4] ?? '';
    }
    const expires = /, expires in (.+)$/.exec(tail);
    const expiresIn = expires ? duration(expires[1] ?? '', where) : undefined;
    if (expiresIn !== undefined) child.expiresSeconds = expiresIn;
    return child;
  }
  if (!current || current.name !== name || current.uniqueId !== uniqueId) {
    throw new ParseError(`${where}: detail for ${name}{${uniqueId}} before its CHILD_SA line`);
  }
  if (body.includes(' === ') || body === '===') {
    const [local = '', remote = ''] = body.split('===');
    current.localTs = local.trim().split(/\s+/).filter(Boolean);
    current.remoteTs = remote.trim().split(/\s+/).filter(Boolean);
    return undefined;
  }
  const t = CHILD_TRAFFIC.exec(body);
  // Lines a release adds under a CHILD_SA (or a traffic line in a wording we do not know) carry
  // nothing we could use: skipped, the SA itself is kept.
  if (!t) return undefined;
  if (t[1]) current.proposal = t[1];
  current.traffic = {
    bytesIn: Number(t[2]),
    bytesOut: Number(t[5]),
    packetsIn: Number(t[3] ?? 0),
    packetsOut: Number(t[6] ?? 0),
  };
  if (t[4] !== undefined) current.lastInSeconds = Number(t[4]);
  if (t[7] !== undefined) current.lastOutSeconds = Number(t[7]);
  if (t[8] === 'active') current.rekeyActive = true;
  const rekeyIn = t[9] !== undefined ? duration(t[9], where) : undefined;
  if (rekeyIn !== undefined) current.rekeySeconds = rekeyIn;
  return undefined;
}
