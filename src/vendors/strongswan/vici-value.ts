/** The shape of a decoded VICI message, as far as readers of it are concerned. */
export type ViciValue = string | string[] | ViciSection;
export interface ViciSection {
  [key: string]: ViciValue;
}

export function isSection(v: ViciValue | undefined): v is ViciSection {
  return v !== undefined && typeof v === 'object' && !Array.isArray(v);
}

export function str(s: ViciSection, k: string): string | undefined {
  const v = s[k];
  return typeof v === 'string' ? v : undefined;
}

/*
 * Readers that never throw: a field in a shape we do not expect (another release, another
 * build) reads as absent, so one odd field costs that field and not the probe.
 */

/** A non-negative integer field; absent, or not a plain number, → undefined. */
export function num(s: ViciSection, k: string): number | undefined {
  const v = s[k];
  if (typeof v !== 'string' || !/^\d{1,20}$/.test(v)) return undefined;
  return Number(v);
}

export function list(s: ViciSection, k: string): string[] {
  const v = s[k];
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v;
  return [];
}

export function section(s: ViciSection, k: string): ViciSection | undefined {
  const v = s[k];
  return isSection(v) ? v : undefined;
}

/** Iterates the named sections of a message; values at that level that are not sections are skipped. */
export function* sections(s: ViciSection, what: string): Generator<[string, ViciSection]> {
  void what;
  for (const [name, v] of Object.entries(s)) if (isSection(v)) yield [name, v];
}
