import { detectFormat } from './detect-format.js';
import { parseClientStatistics } from './client-stats.js';
import { DEFAULT_LIMITS, splitLines } from './lines.js';
import { parseV1 } from './v1.js';
import { parseV2V3 } from './v2v3.js';
import type { OpenvpnStatus, OpenvpnStatusLimits } from './status-types.js';

export type * from './status-types.js';

/**
 * Parses an OpenVPN status file (status-version 1, 2 or 3, or a client's
 * STATISTICS file) or the identical management `status N` answer. Pure: the
 * caller reads the file. Throws only ParseError, including for a file without
 * END, which is what a reader sees while OpenVPN is rewriting it.
 */
export function parseOpenvpnStatus(text: string, limits: Partial<OpenvpnStatusLimits> = {}): OpenvpnStatus {
  const lines = splitLines(text, { ...DEFAULT_LIMITS, ...limits });
  const format = detectFormat(lines);
  switch (format) {
    case 'v1':
      return parseV1(lines);
    case 'client':
      return parseClientStatistics(lines);
    default:
      return parseV2V3(lines, format);
  }
}
