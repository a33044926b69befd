import { ParseError } from '../../util/errors.js';
import { optional, parseTime } from './fields.js';
import { addGlobalStat } from './global-stats.js';
import { CLIENT_REQUIRED, Columns, ROUTE_REQUIRED, toClient, toRoute } from './rows.js';
import type { OpenvpnServerStatus } from './status-types.js';

/**
 * status-version 2 (commas) and 3 (tabs): every line starts with its record
 * type, and HEADER lines name the columns of the CLIENT_LIST and ROUTING_TABLE
 * rows that follow. Unknown record types are skipped so newer releases parse.
 */
export function parseV2V3(lines: readonly string[], format: 'v2' | 'v3'): OpenvpnServerStatus {
  const sep = format === 'v3' ? '\t' : ',';
  const out: OpenvpnServerStatus = { format, clients: [], routes: [], globalStats: { other: {} } };
  const headers = new Map<string, Columns>();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const lineNo = i + 1;
    if (line.trim() === '') continue;
    const [kind = '', ...rest] = line.split(sep);
    switch (kind) {
      case 'END':
        return out;
      case 'TITLE': {
        out.title = rest.join(sep).trim();
        const version = /^OpenVPN (\d+\.\d+\S*)/.exec(out.title)?.[1];
        if (version !== undefined) out.version = version;
        break;
      }
      case 'TIME': {
        const text = optional(rest[1]) ?? optional(rest[0]);
        if (text === undefined) throw new ParseError(`line ${lineNo}: TIME without a value`);
        out.updated = parseTime(text, `line ${lineNo} TIME`);
        break;
      }
      case 'HEADER': {
        const [table = '', ...names] = rest;
        const columns = new Columns(names, table);
        if (table === 'CLIENT_LIST') columns.require(...CLIENT_REQUIRED);
        if (table === 'ROUTING_TABLE') columns.require(...ROUTE_REQUIRED);
        headers.set(table, columns);
        break;
      }
      case 'CLIENT_LIST':
      case 'ROUTING_TABLE': {
        const columns = headers.get(kind);
        if (!columns) throw new ParseError(`line ${lineNo}: ${kind} row before its HEADER`);
        const row = columns.row(rest, lineNo);
        if (kind === 'CLIENT_LIST') out.clients.push(toClient(row));
        else out.routes.push(toRoute(row));
        break;
      }
      case 'GLOBAL_STATS':
        if (rest.length !== 2) throw new ParseError(`line ${lineNo}: GLOBAL_STATS is not "name${sep}value"`);
        addGlobalStat(out.globalStats, rest[0] ?? '', rest[1] ?? '', lineNo);
        break;
      default:
        break;
    }
  }
  throw new ParseError('status ends without END (truncated or still being written)');
}
