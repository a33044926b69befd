import { ParseError } from '../../util/errors.js';
import { parseCount } from './numbers.js';
import { cleanTerminalText } from './prompt.js';
import { cell, columnsFromDashes, readRow, type TableColumn } from './table.js';

/**
 * One IKE SA (phase 1) from `show vpn ike-sa`: the IKEv1 phase-1 table or the IKEv2 SA
 * table. The XML API's `<show><vpn><ike-sa/>` entries carry the same fields (gwid, peer,
 * name, role, mode, algo, created, expires, stat), so an XML reader can fill it too.
 */
export interface PanosIkeSa {
  version: 1 | 2;
  gatewayId?: number;
  gateway: string;
  peerAddress?: string;
  role?: string;
  /** IKEv1 exchange mode (`Main`, `Aggr`). */
  mode?: string;
  /** `PSK/DH14/A128/SHA256`: authentication, DH group, cipher, hash. */
  algorithm?: string;
  /** As printed, without a year (`Jun.04 21:09:13`). */
  established?: string;
  expiration?: string;
  /** The device's word or code (`Established`, `13`). */
  state?: string;
}

/** A phase-2 SA from the IKEv1 phase-2 or IKEv2 child SA table of `show vpn ike-sa`. */
export interface PanosChildSa {
  version: 1 | 2;
  gateway: string;
  tunnelId?: number;
  tunnel: string;
  state?: string;
}

/**
 * One installed IPsec SA pair from `show vpn ipsec-sa`. `tunnel` is the name `show vpn
 * flow` uses for the same SA: `tunnel` alone, or `tunnel:proxy-id` for a tunnel with
 * proxy-ids (one SA per proxy-id).
 */
export interface PanosIpsecSa {
  gatewayId?: number;
  tunnelId?: number;
  peerAddress?: string;
  tunnel: string;
  gateway?: string;
  /** `ESP/A256/SHA256`: protocol, cipher, integrity. */
  algorithm?: string;
  spiIn?: string;
  spiOut?: string;
  lifetimeSeconds?: number;
  /** Undefined when `Unlimited`. */
  lifetimeKilobytes?: number;
  remainingSeconds?: number;
}

export interface PanosIkeSas {
  ikeSas: PanosIkeSa[];
  childSas: PanosChildSa[];
}

interface Table {
  title: string;
  columns: TableColumn[];
  rows: Map<string, string>[];
}

/** Lines that end a table: a blank line, a `Show ... found.` summary, a "There is no ..." sentence. */
const TABLE_END = /^\s*$|^\s*Show\b|^\s*There is no\b/i;

/** Every header+dashes table in `text`, with the last title line seen above it. */
function tables(text: string): Table[] {
  const lines = cleanTerminalText(text)
    .split('\n')
    .map((l) => l.trimEnd());
  const out: Table[] = [];
  let title = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const columns = columnsFromDashes(line, lines[i + 1] ?? '');
    if (!columns) {
      if (line.trim() !== '' && !/^\s*Show\b|^\s*There is no\b/i.test(line)) title = line.trim();
      continue;
    }
    const table: Table = { title, columns, rows: [] };
    for (i += 2; i < lines.length && !TABLE_END.test(lines[i] ?? ''); i++) table.rows.push(readRow(lines[i] ?? '', columns));
    out.push(table);
    title = '';
  }
  return out;
}

/** A text that says nothing is there (`There is no IKEv1 phase-1 SA found.`) or nothing at all. */
function onlyNothingFound(text: string): boolean {
  return cleanTerminalText(text)
    .split('\n')
    .every((l) => l.trim() === '' || /^There is no\b.*\bfound\b/i.test(l.trim()) || /^Show\b.*\bfound\b/i.test(l.trim()));
}

const opt = (v: string | undefined) => (v === undefined || v === '' ? undefined : v);

export function parseIkeSa(text: string): PanosIkeSas {
  const result: PanosIkeSas = { ikeSas: [], childSas: [] };
  const found = tables(text);
  if (found.length === 0) {
    if (onlyNothingFound(text)) return result;
    throw new ParseError('not `show vpn ike-sa` output: no SA table and no "There is no ... SA found"');
  }
  for (const t of found) {
    const version: 1 | 2 = /IKEv2/i.test(t.title) ? 2 : 1;
    const isChild = /phase-2|child/i.test(t.title) || t.columns.some((c) => /^TnID$/i.test(c.name));
    for (const row of t.rows) {
      const gateway = cell(row, /^Gateway Name$/i, /^Gateway$/i) ?? '';
      if (isChild) {
        const tunnel = cell(row, /^Tunnel$/i);
        if (!tunnel) continue;
        const sa: PanosChildSa = { version, gateway, tunnel };
        const tnid = parseCount(cell(row, /^TnID$/i));
        if (tnid !== undefined) sa.tunnelId = tnid;
        const st = opt(cell(row, /^ST$/i));
        if (st) sa.state = st;
        result.childSas.push(sa);
        continue;
      }
      if (gateway === '') continue;
      const sa: PanosIkeSa = { version, gateway };
      const gwid = parseCount(cell(row, /^(?:GwID|Gateway ID)/i));
      if (gwid !== undefined) sa.gatewayId = gwid;
      const set = (k: 'peerAddress' | 'role' | 'mode' | 'algorithm' | 'established' | 'expiration' | 'state', v: string | undefined) => {
        if (opt(v) !== undefined) sa[k] = v as string;
      };
      set('peerAddress', cell(row, /^Peer-Address$/i));
      set('role', cell(row, /^Role$/i));
      set('mode', cell(row, /^Mode$/i));
      set('algorithm', cell(row, /^Algorithm$/i));
      set('established', cell(row, /^Established$/i));
      set('expiration', cell(row, /^Expiration$/i));
      set('state', cell(row, /^ST$/i));
      result.ikeSas.push(sa);
    }
  }
  return result;
}

/** `name(gateway)` as the Tunnel(Gateway) column prints it; the name may hold parentheses. */
function splitTunnelGateway(v: string): { tunnel: string; gateway?: string } {
  if (!v.endsWith(')')) return { tunnel: v };
  // The gateway is the balanced group at the end, so a gateway name may hold parentheses too.
  let depth = 0;
  for (let i = v.length - 1; i > 0; i--) {
    if (v[i] === ')') depth++;
    else if (v[i] === '(' && --depth === 0) return { tunnel: v.slice(0, i), gateway: v.slice(i + 1, -1) };
  }
  return { tunnel: v };
}

export function parseIpsecSa(text: string): PanosIpsecSa[] {
  const found = tables(text);
  if (found.length === 0) {
    if (onlyNothingFound(text)) return [];
    throw new ParseError('not `show vpn ipsec-sa` output: no SA table and no "There is no IPSec SA found"');
  }
  const out: PanosIpsecSa[] = [];
  for (const t of found) {
    for (const row of t.rows) {
      const tg = cell(row, /^Tunnel\(Gateway\)$/i, /^Tunnel$/i);
      if (!tg) continue;
      const { tunnel, gateway } = splitTunnelGateway(tg);
      const sa: PanosIpsecSa = { tunnel };
      if (gateway) sa.gateway = gateway;
      const gwid = parseCount(cell(row, /^GwID/i));
      if (gwid !== undefined) sa.gatewayId = gwid;
      const tnid = parseCount(cell(row, /^TnID$/i));
      if (tnid !== undefined) sa.tunnelId = tnid;
      const peer = opt(cell(row, /^Peer-Address$/i));
      if (peer) sa.peerAddress = peer;
      const algo = opt(cell(row, /^Algorithm$/i));
      if (algo) sa.algorithm = algo;
      const spiIn = opt(cell(row, /^SPI\(in\)$/i));
      if (spiIn) sa.spiIn = spiIn;
      const spiOut = opt(cell(row, /^SPI\(out\)$/i));
      if (spiOut) sa.spiOut = spiOut;
      const [life, kb] = (cell(row, /^life/i) ?? '').split('/');
      const lifeS = parseCount(life);
      if (lifeS !== undefined) sa.lifetimeSeconds = lifeS;
      const lifeKb = parseCount(kb);
      if (lifeKb !== undefined) sa.lifetimeKilobytes = lifeKb;
      const remain = parseCount(cell(row, /^remain/i));
      if (remain !== undefined) sa.remainingSeconds = remain;
      out.push(sa);
    }
  }
  return out;
}
