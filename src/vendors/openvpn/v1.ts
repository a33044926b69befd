import { ParseError } from '../../util/errors.js';
import { parseTime } from './fields.js';
import { addGlobalStat } from './global-stats.js';
import { CLIENT_REQUIRED, Columns, ROUTE_REQUIRED, toClient, toRoute } from './rows.js';
import type { OpenvpnServerStatus } from './status-types.js';

type Section = 'clients' | 'routes' | 'stats';
const SECTION_TITLES: Record<string, Section> = {
  'OpenVPN CLIENT LIST': 'clients',
  'ROUTING TABLE': 'routes',
  'GLOBAL STATS': 'stats',
};

/**
 * status-version 1: titled sections, each table introduced by its own header
 * line. Fields are comma-separated without quoting, so a common name with a
 * comma makes its row unreadable; such rows fail rather than shift columns.
 */
export function parseV1(lines: readonly string[]): OpenvpnServerStatus {
  const out: OpenvpnServerStatus = { format: 'v1', clients: [], routes: [], globalStats: { other: {} } };
  let section: Section | undefined;
  let columns: Columns | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const lineNo = i + 1;
    if (line.trim() === '') continue;
    if (line.trim() === 'END') return out;
    const title = SECTION_TITLES[line.trim()];
    if (title !== undefined) {
      section = title;
      columns = undefined;
      continue;
    }
    const fields = line.split(',');
    if (section === undefined) throw new ParseError(`line ${lineNo}: data before the first section`);
    if (fields[0] === 'Updated' && fields.length === 2 && columns === undefined) {
      out.updated = parseTime(fields[1] ?? '', `line ${lineNo} Updated`);
      continue;
    }
    if (section === 'stats') {
      if (fields.length !== 2) throw new ParseError(`line ${lineNo}: global stat is not "name,value"`);
      addGlobalStat(out.globalStats, fields[0] ?? '', fields[1] ?? '', lineNo);
      continue;
    }
    if (columns === undefined) {
      columns = new Columns(fields, section === 'clients' ? 'CLIENT LIST' : 'ROUTING TABLE');
      columns.require(...(section === 'clients' ? CLIENT_REQUIRED : ROUTE_REQUIRED));
      continue;
    }
    const row = columns.row(fields, lineNo);
    if (section === 'clients') out.clients.push(toClient(row));
    else out.routes.push(toRoute(row));
  }
  throw new ParseError('status ends without END (truncated or still being written)');
}
