import { ParseError } from '../../util/errors.js';
import { cleanTerminalText, parsePromptLine } from './prompt.js';

/** One row of `show vpn flow`. */
export interface PanosFlowTunnel {
  id: number;
  name: string;
  /** PAN-OS's word: active, inactiv, init. */
  state: string;
  monitor: string;
  localIp: string;
  peerIp: string;
  interface: string;
}

export interface PanosVpnFlow {
  tunnels: PanosFlowTunnel[];
  totals: { configured?: number; ipsecConfigured?: number; ipsecShown?: number };
}

/*
 * `show vpn flow` prints totals, a header row, a dashes row and one row per tunnel.
 * Column widths differ between releases (the name column is 30 wide on older ones,
 * 64 on newer, wider still for long names) and rows do not always line up under the
 * header, so positions are not trusted: the header gives the column order, a row's
 * first token is the id, its last tokens are the single-word columns, and the name
 * is whatever lies between (it may hold spaces).
 */

const TOTALS: [RegExp, keyof PanosVpnFlow['totals']][] = [
  [/^total tunnels configured:\s*(\d+)$/i, 'configured'],
  [/^total IPSec tunnels? configured:\s*(\d+)$/i, 'ipsecConfigured'],
  [/^total IPSec tunnels? shown:\s*(\d+)$/i, 'ipsecShown'],
];

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
  let columns: (keyof PanosFlowTunnel)[] | undefined;

  for (const rawLine of cleanTerminalText(text).split('\n')) {
    const line = rawLine.trim();
    if (line === '' || /^-[-\s]*$/.test(line) || line === 'show vpn flow' || parsePromptLine(line)) continue;
    if (line.startsWith('filter - ')) continue;

    const total = TOTALS.find(([re]) => re.test(line));
    if (total) {
      totals[total[1]] = Number(total[0].exec(line)?.[1]);
      continue;
    }
    if (/^id\s+name\s/.test(line)) {
      columns = headerColumns(line);
      continue;
    }
    if (!columns) throw new ParseError(`unexpected line before the tunnel table: ${clip(line)}`);
    tunnels.push(parseRow(line, columns));
  }

  if (!columns && Object.keys(totals).length === 0) {
    throw new ParseError('not `show vpn flow` output: no totals and no tunnel table');
  }
  if (!columns && (totals.ipsecShown ?? 0) > 0) {
    throw new ParseError(`${totals.ipsecShown} tunnels announced but no tunnel table`);
  }
  return { tunnels, totals };
}

function headerColumns(line: string): (keyof PanosFlowTunnel)[] {
  const names = line.split(/\s+/).slice(2);
  const keys = names.map((n) => {
    const key = Object.hasOwn(COLUMN_KEYS, n.toLowerCase()) ? COLUMN_KEYS[n.toLowerCase()] : undefined;
    if (!key) throw new ParseError(`unknown column "${clip(n)}" in the tunnel table header`);
    return key;
  });
  for (const required of ['state', 'localIp', 'peerIp'] as const) {
    if (!keys.includes(required)) throw new ParseError(`tunnel table header lacks ${required}`);
  }
  return keys;
}

function parseRow(line: string, columns: (keyof PanosFlowTunnel)[]): PanosFlowTunnel {
  const tokens = [...line.matchAll(/\S+/g)];
  const id = tokens[0]?.[0] ?? '';
  if (!/^\d{1,9}$/.test(id)) throw new ParseError(`tunnel row does not start with an id: ${clip(line)}`);

  let trailing = columns;
  const last = tokens[tokens.length - 1]?.[0] ?? '';
  if (columns[columns.length - 1] === 'interface' && !TUNNEL_IF.test(last)) trailing = columns.slice(0, -1);
  // The id, a name of at least one token, then one token per trailing column.
  if (tokens.length < trailing.length + 2) {
    throw new ParseError(`tunnel row has ${tokens.length} fields, expected at least ${trailing.length + 2}: ${clip(line)}`);
  }
  const firstTrailing = tokens[tokens.length - trailing.length];
  const nameStart = tokens[1]?.index ?? 0;
  const name = line.slice(nameStart, firstTrailing?.index ?? line.length).trim();

  const row: PanosFlowTunnel = {
    id: Number(id), name, state: '', monitor: '', localIp: '', peerIp: '', interface: '',
  };
  trailing.forEach((key, i) => {
    const value = tokens[tokens.length - trailing.length + i]?.[0] ?? '';
    if (key !== 'id' && key !== 'name') row[key] = value;
  });
  return row;
}

function clip(s: string): string {
  return s.length > 80 ? `${s.slice(0, 80)}...` : s;
}
