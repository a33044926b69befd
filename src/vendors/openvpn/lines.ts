import { ParseError } from '../../util/errors.js';
import type { OpenvpnStatusLimits } from './status-types.js';

export const DEFAULT_LIMITS: OpenvpnStatusLimits = { maxLines: 100_000, maxLineLength: 16_384 };

/**
 * Splits into lines without ever holding more than the limit, so a runaway
 * file fails fast instead of allocating an array the size of the input.
 */
export function splitLines(text: string, limits: OpenvpnStatusLimits): string[] {
  const lines: string[] = [];
  let start = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    if (end - start > limits.maxLineLength) {
      throw new ParseError(`status line ${lines.length + 1} is longer than ${limits.maxLineLength} characters`);
    }
    if (lines.length >= limits.maxLines) {
      throw new ParseError(`status has more than ${limits.maxLines} lines`);
    }
    const line = text.slice(start, end);
    lines.push(line.endsWith('\r') ? line.slice(0, -1) : line);
    start = end + 1;
  }
  return lines;
}
