import { ParseError } from '../../util/errors.js';

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

/** A non-negative integer field; absent → undefined; present but not a number → ParseError. */
export function num(s: ViciSection, k: string): number | undefined {
  const v = s[k];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !/^\d{1,20}$/.test(v)) throw new ParseError(`VICI field "${k}" is not a number: ${JSON.stringify(v).slice(0, 40)}`);
  return Number(v);
}

export function list(s: ViciSection, k: string): string[] {
  const v = s[k];
  if (v === undefined) return [];
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v;
  throw new ParseError(`VICI field "${k}" is a section where a list was expected`);
}

export function section(s: ViciSection, k: string): ViciSection | undefined {
  const v = s[k];
  if (v === undefined) return undefined;
  if (!isSection(v)) throw new ParseError(`VICI field "${k}" is not a section`);
  return v;
}

/** Iterates the named sections of a message; anything else at that level is a protocol breach. */
export function* sections(s: ViciSection, what: string): Generator<[string, ViciSection]> {
  for (const [name, v] of Object.entries(s)) {
    if (!isSection(v)) throw new ParseError(`${what} "${name}" is not a section`);
    yield [name, v];
  }
}
