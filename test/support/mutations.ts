import fc from 'fast-check';

/**
 * Real captures, damaged the way transports and rewrites damage them: truncated, a line
 * deleted or duplicated, random bytes spliced in. Parsers must give data or their typed error.
 */
export function mutatedText(texts: readonly string[]): fc.Arbitrary<string> {
  const op = fc.tuple(fc.constantFrom('truncate', 'delete', 'duplicate', 'splice'), fc.nat(), fc.string({ unit: 'binary', maxLength: 12 }));
  return fc.tuple(fc.constantFrom(...texts), fc.array(op, { minLength: 1, maxLength: 4 })).map(([text, ops]) =>
    ops.reduce((t, [kind, n, bytes]) => {
      const lines = t.split('\n');
      const i = n % Math.max(lines.length, 1);
      if (kind === 'truncate') return t.slice(0, n % (t.length + 1));
      if (kind === 'delete') lines.splice(i, 1);
      if (kind === 'duplicate') lines.splice(i, 0, lines[i] ?? '');
      if (kind === 'splice') {
        const at = n % (t.length + 1);
        return t.slice(0, at) + bytes + t.slice(at + bytes.length);
      }
      return lines.join('\n');
    }, text),
  );
}
