import { ParseError } from '../../util/errors.js';
import { parseCount, parseTime, setOwn } from './fields.js';
import type { OpenvpnClientStatistics } from './status-types.js';

const NAMED = {
  'TUN/TAP read bytes': 'tunTapReadBytes',
  'TUN/TAP write bytes': 'tunTapWriteBytes',
  'TCP/UDP read bytes': 'tcpUdpReadBytes',
  'TCP/UDP write bytes': 'tcpUdpWriteBytes',
} as const;

/** The `OpenVPN STATISTICS` file a client writes with `--status`: one `label,number` per line. */
export function parseClientStatistics(lines: readonly string[]): OpenvpnClientStatistics {
  const out: OpenvpnClientStatistics = { format: 'client', counters: {} };
  let titled = false;
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    const lineNo = i + 1;
    if (line === '') continue;
    if (line === 'END') return out;
    if (!titled) {
      titled = line === 'OpenVPN STATISTICS';
      if (!titled) throw new ParseError(`line ${lineNo}: expected "OpenVPN STATISTICS"`);
      continue;
    }
    const comma = line.lastIndexOf(',');
    if (comma <= 0) throw new ParseError(`line ${lineNo}: statistic is not "label,value"`);
    const label = line.slice(0, comma);
    const value = line.slice(comma + 1);
    if (label === 'Updated') {
      out.updated = parseTime(value, `line ${lineNo} Updated`);
      continue;
    }
    const n = parseCount(value, `line ${lineNo} ${label}`);
    setOwn(out.counters, label, n);
    if (Object.hasOwn(NAMED, label)) out[NAMED[label as keyof typeof NAMED]] = n;
  }
  throw new ParseError('statistics end without END (truncated or still being written)');
}
