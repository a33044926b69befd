import { ParseError } from '../../util/errors.js';
import { parseCount, setOwn } from './fields.js';
import type { OpenvpnGlobalStats } from './status-types.js';

export function addGlobalStat(stats: OpenvpnGlobalStats, key: string, value: string, lineNo: number): void {
  const name = key.trim();
  if (name === 'Max bcast/mcast queue length') {
    stats.maxBcastMcastQueueLength = parseCount(value, `line ${lineNo} ${name}`);
  } else if (name === 'dco_enabled') {
    const v = value.trim();
    if (v !== '0' && v !== '1') throw new ParseError(`line ${lineNo}: dco_enabled is ${JSON.stringify(v.slice(0, 20))}`);
    stats.dcoEnabled = v === '1';
  } else {
    setOwn(stats.other, name, value);
  }
}
