import { ParseError } from '../../util/errors.js';
import type { OpenvpnStatusFormat } from './status-types.js';

const V2V3_KEYWORD = /^(TITLE|TIME|HEADER|CLIENT_LIST|ROUTING_TABLE|GLOBAL_STATS|END)([,\t])/;

/** Decides from the first non-blank line; v2 and v3 differ only in the separator. */
export function detectFormat(lines: readonly string[]): OpenvpnStatusFormat {
  const first = lines.find((l) => l.trim() !== '');
  if (first === undefined) throw new ParseError('status is empty');
  const head = first.trim();
  if (head === 'OpenVPN CLIENT LIST') return 'v1';
  if (head === 'OpenVPN STATISTICS') return 'client';
  const m = V2V3_KEYWORD.exec(first);
  if (m) return m[2] === '\t' ? 'v3' : 'v2';
  throw new ParseError(`not an OpenVPN status file: starts with ${JSON.stringify(head.slice(0, 60))}`);
}
