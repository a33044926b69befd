import type { PaloaltoTunnelDetail } from '../../model/snapshot.js';
import { ParseError } from '../../util/errors.js';
import { parseCount } from './numbers.js';
import { cleanTerminalText, parsePromptLine } from './prompt.js';

/**
 * One row of `show vpn flow`: the snapshot carries it unchanged as vendor detail, so the
 * record is the model's type (as strongSwan's IKE_SAs are), not a copy of it.
 */
export type PanosFlowTunnel = PaloaltoTunnelDetail;

export interface PanosVpnFlow {
  tunnels: PanosFlowTunnel[];
  /**
   * The totals as the device printed them. They are not checked against the rows: units
   * are seen to count tunnels the table leaves out (and a filter hides rows), so the rows
   * are what the tunnels are built from and the totals are exposed as printed.
   */
  totals: { configured?: number; ipsecConfigured?: number; ipsecShown?: number };
  /** Lines in the table that could not be read as a tunnel (kept out, counted for the debug log). */
  skippedLines: number;
  /** Header columns this parser does not know (a newer release's `mode`, ...), in order. */
  unknownColumns: string[];
}

/*
 * `show vpn flow` prints totals, a header row, a dashes row and one row per tunnel.
 * Column widths differ between releases (the name column is 30 wide on older ones,
 * 64 on newer, wider still for long names) and rows do not always line up under the
 * header, so positions are not trusted: the header gives the column order, a row's
 * first token is the id, its last tokens are the single-word columns, and the name
 * is whatever lies between (it may hold spaces). Columns are found by name; a column
 * this parser does not know (newer releases add a trailing `mode`) is read past.
 */

const TOTALS: [RegExp, keyof PanosVpnFlow['totals']][] = [
  [/^total tunnels configured:\s*(\S+)$/i, 'configured'],
  [/^total IPSec tunnels? configured:\s*(\S+)$/i, 'ipsecConfigured'],
  [/^total IPSec tunnels? shown:\s*(\S+)$/i, 'ipsecShown'],
];

type Column = keyof PanosFlowTunnel | 'other';

const COLUMN_KEYS: Record<string, keyof PanosFlowTunnel> = {
  state: 'state',
  monitor: 'monitor',
  'local-ip': 'localIp',
  'peer-ip': 'peerIp',
  'tunnel-i/f': 'interface',
};

/** PAN-OS tunnel interfaces are `tunnel` or `tunnel.N`; only that column may be blank. */
const TUNNEL_IF = /^tunnel(?:\.\d+)?$/;

export function parseVpnFlow(text: string): PanosVpnFlow {
  const totals: PanosVpnFlow['totals'] = {};
  const tunnels: PanosFlowTunnel[] = [];
  let columns: Column[] | undefined;
  let unknownColumns: string[] = [];
  let skippedLines = 0;
  let sawTotals = false;

  for (const rawLine of cleanTerminalText(text).split('\n')) {
    const line = rawLine.trim();
    if (line === '' || /^-[-\s]*$/.test(line) || line === 'show vpn flow' || parsePromptLine(line)) continue;
    if (line.startsWith('filter - ')) continue;

    const total = TOTALS.find(([re]) => re.test(line));
    if (total) {
      sawTotals = true;
      const n = parseCount(total[0].exec(line)?.[1]);
      if (n !== undefined) totals[total[1]] = n;
      continue;
    }
    if (/^id\s+name(?:\s|$)/i.test(line)) {
      ({ columns, unknown: unknownColumns } = headerColumns(line));
      continue;
    }
    const row = columns ? parseRow(line, columns) : undefined;
    if (row) tunnels.push(row);
    else skippedLines++;
  }

  if (!columns && !sawTotals) {
    throw new ParseError('not `show vpn flow` output: no totals and no tunnel table');
  }
  if (!columns && (totals.ipsecShown ?? 0) > 0) {
    throw new ParseError(`${totals.ipsecShown} tunnels announced but no tunnel table`);
  }
  return { tunnels, totals, skippedLines, unknownColumns };
}

function headerColumns(line: string): { columns: Column[]; unknown: string[] } {
  const names = line.split(/\s+/).slice(2);
  const unknown: string[] = [];
  const columns = names.map((n): Column => {
    const key = Object.hasOwn(COLUMN_KEYS, n.toLowerCase()) ? COLUMN_KEYS[n.toLowerCase()] : undefined;
    if (key) return key;
    unknown.push(n);
    return 'other';
  });
  if (!columns.includes('state')) throw new ParseError('tunnel table header has no state column');
  return { columns, unknown };
}

/** A row, or undefined when the line is not one (no id first, too few fields). */
function parseRow(line: string, columns: readonly Column[]): PanosFlowTunnel | undefined {
  const tokens = [...line.matchAll(/\S+/g)];
  const id = tokens[0]?.[0] ?? '';
  if (!/^\d{1,9}$/.test(id)) return undefined;

  // Walk the single-word columns from the right; a blank interface takes no token.
  const values = new Map<Column, string>();
  let next = tokens.length - 1;
  for (let c = columns.length - 1; c >= 0; c--) {
    const key = columns[c] as Column;
    const token = tokens[next]?.[0] ?? '';
    if (key === 'interface' && !TUNNEL_IF.test(token)) continue;
    if (next < 2) return undefined; // the id and at least one token of name must remain
    if (key !== 'other') values.set(key, token);
    next--;
  }
  const nameStart = tokens[1]?.index ?? 0;
  const nameEnd = (tokens[next]?.index ?? 0) + (tokens[next]?.[0].length ?? 0);
  const name = line.slice(nameStart, nameEnd).trim();
  if (name === '') return undefined;
  return {
    id: Number(id),
    name,
    state: values.get('state') ?? '',
    monitor: values.get('monitor') ?? '',
    localIp: values.get('localIp') ?? '',
    peerIp: values.get('peerIp') ?? '',
    interface: values.get('interface') ?? '',
  };
}
