/**
 * Whole numbers as PAN-OS prints them. A JavaScript number holds integers exactly only
 * up to 2^53 - 1; a 64-bit counter beyond that (a wrapped or uninitialised counter prints
 * 18446744073709551615) would come out rounded, so such a value is treated as unknown:
 * its series is left out rather than exposed as a wrong number. The raw text stays in
 * the vendor detail where a record keeps it.
 */
export function parseCount(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const t = text.trim().replace(/,/g, '');
  if (!/^\d{1,20}$/.test(t)) return undefined;
  const n = Number(t);
  return Number.isSafeInteger(n) ? n : undefined;
}
