import { ParseError } from '../../util/errors.js';

/**
 * `ignored`: starter does not load it: auto=ignore, which is also the default
 * when no auto= is given, and which also= passes on to conns that set no auto
 * of their own (all verified with starter 5.9.8). `multi-user`: peers
 * authenticate as users (EAP or XAuth), so one conn carries many road warriors.
 */
export type IpsecConnKind = 'ignored' | 'multi-user' | 'site-to-site';

export interface IpsecConn {
  name: string;
  /**
   * Effective settings: own values over also= targets (the first listed
   * winning) over conn %default, wherever %default appears in the file; an
   * empty value clears the setting. `also` itself is not listed.
   */
  settings: Record<string, string>;
  kind: IpsecConnKind;
  /** also= targets not defined in the text given; merge the file that defines them to resolve. */
  missingAlso: string[];
  /** type=passthrough|pass (bypass) or drop|reject: a policy, not a tunnel. */
  shunt?: 'pass' | 'drop';
}

export interface IpsecConfSection {
  type: 'config' | 'conn' | 'ca';
  name: string;
  /** In file order, `also` included; an empty value clears what was inherited. */
  entries: [key: string, value: string][];
  line: number;
}

export interface IpsecConf {
  conns: IpsecConn[];
  /** `include` patterns in order, verbatim (globs, relative to /etc); the caller fetches and parses them. */
  includes: string[];
  /** The `config setup` section. */
  setup: Record<string, string>;
  /** Raw sections, kept so several files can be resolved together with mergeIpsecConf. */
  sections: IpsecConfSection[];
}

const MAX_LINES = 50_000;
const MAX_LINE_LENGTH = 8_192;
const MAX_ALSO_DEPTH = 32;
const MAX_ALSO_EXPANSION = 1_000;
const KEY = /^[A-Za-z0-9_.-]+$/;

/** Parses one ipsec.conf (or included) file. Pure; throws only ParseError. */
export function parseIpsecConf(text: string): IpsecConf {
  const { sections, includes } = readSections(text);
  return resolve(sections, includes);
}

/**
 * Resolves several parsed files as one configuration (the main file and its
 * includes, in include order), so also= and %default work across files.
 */
export function mergeIpsecConf(parts: readonly IpsecConf[]): IpsecConf {
  return resolve(
    parts.flatMap((p) => p.sections),
    parts.flatMap((p) => p.includes),
  );
}

function readSections(text: string): { sections: IpsecConfSection[]; includes: string[] } {
  const sections: IpsecConfSection[] = [];
  const includes: string[] = [];
  let current: IpsecConfSection | undefined;
  let lineNo = 0;
  for (const raw of text.split('\n')) {
    lineNo++;
    if (lineNo > MAX_LINES) throw new ParseError(`ipsec.conf has more than ${MAX_LINES} lines`);
    if (raw.length > MAX_LINE_LENGTH) throw new ParseError(`ipsec.conf line ${lineNo} is too long`);
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const body = stripComment(line, lineNo);
    if (body.trim() === '') continue;
    if (/^\s/.test(body)) {
      // Indentation is what makes a line a setting of the section above it.
      if (!current) throw new ParseError(`ipsec.conf line ${lineNo}: setting outside any section`);
      current.entries.push(readSetting(body.trim(), lineNo));
      continue;
    }
    const [word = '', arg, extra] = body.trim().split(/\s+/);
    if (word === 'include' && arg !== undefined && extra === undefined) {
      includes.push(arg);
      current = undefined;
    } else if (word === 'version' && arg !== undefined && extra === undefined) {
      current = undefined;
    } else if ((word === 'conn' || word === 'ca' || word === 'config') && arg !== undefined && extra === undefined) {
      if (word === 'config' && arg !== 'setup') throw new ParseError(`ipsec.conf line ${lineNo}: unknown "config ${arg}"`);
      current = { type: word, name: arg, entries: [], line: lineNo };
      sections.push(current);
    } else {
      throw new ParseError(`ipsec.conf line ${lineNo}: unexpected ${JSON.stringify(body.trim().slice(0, 60))}`);
    }
  }
  return { sections, includes };
}

/** Drops a `#` comment that is not inside double quotes. */
function stripComment(line: string, lineNo: number): string {
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '"') quoted = !quoted;
    else if (c === '#' && !quoted) return line.slice(0, i);
  }
  if (quoted) throw new ParseError(`ipsec.conf line ${lineNo}: unterminated quote`);
  return line;
}

function readSetting(text: string, lineNo: number): [string, string] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new ParseError(`ipsec.conf line ${lineNo}: expected key=value`);
  const key = text.slice(0, eq).trim();
  if (!KEY.test(key)) throw new ParseError(`ipsec.conf line ${lineNo}: bad key ${JSON.stringify(key.slice(0, 40))}`);
  let value = text.slice(eq + 1).trim();
  if (value.startsWith('"')) {
    const close = value.indexOf('"', 1);
    if (close !== value.length - 1) throw new ParseError(`ipsec.conf line ${lineNo}: text after a quoted value`);
    value = value.slice(1, close);
  }
  return [key, value];
}

function resolve(sections: readonly IpsecConfSection[], includes: string[]): IpsecConf {
  const conns = new Map<string, IpsecConfSection>();
  const setup: Record<string, string> = {};
  for (const s of sections) {
    if (s.type === 'config') apply(setup, s.entries);
    if (s.type !== 'conn') continue;
    // starter merges repeated sections (several `conn %default` are common), later values winning.
    const seen = conns.get(s.name);
    conns.set(s.name, seen ? { ...seen, entries: [...seen.entries, ...s.entries] } : s);
  }
  const defaults = conns.get('%default');
  const out: IpsecConn[] = [];
  for (const conn of conns.values()) {
    if (conn.name === '%default') continue;
    const missing: string[] = [];
    const settings: Record<string, string> = {};
    const layers: IpsecConfSection[][] = [];
    const budget = { left: MAX_ALSO_EXPANSION };
    if (defaults) layers.push(collect(defaults, conns, missing, [], budget));
    layers.push(collect(conn, conns, missing, [], budget));
    for (const layer of layers) for (const s of layer) apply(settings, s.entries);
    const shunt = SHUNT_TYPES[settings.type ?? ''];
    out.push({ name: conn.name, settings, kind: classify(settings), missingAlso: missing, ...(shunt ? { shunt } : {}) });
  }
  return { conns: out, includes, setup, sections: [...sections] };
}

/**
 * Sections in the order to apply them, lowest precedence first: a conn's
 * also= targets (the first listed wins, so they go in reverse), then the conn.
 */
function collect(
  conn: IpsecConfSection,
  conns: ReadonlyMap<string, IpsecConfSection>,
  missing: string[],
  path: string[],
  budget: { left: number },
): IpsecConfSection[] {
  // Shared also= targets are expanded once per use; the budget stops a diamond-shaped blow-up.
  if (--budget.left < 0) throw new ParseError(`ipsec.conf: also= expands to more than ${MAX_ALSO_EXPANSION} sections`);
  if (path.includes(conn.name)) throw new ParseError(`ipsec.conf: also= loop through ${[...path, conn.name].join(' -> ')}`);
  if (path.length >= MAX_ALSO_DEPTH) throw new ParseError(`ipsec.conf: also= nested deeper than ${MAX_ALSO_DEPTH}`);
  const alsos = conn.entries.filter(([k]) => k === 'also').map(([, v]) => v);
  const order: IpsecConfSection[] = [];
  for (const name of alsos.reverse()) {
    const target = conns.get(name);
    if (!target) {
      if (!missing.includes(name)) missing.push(name);
      continue;
    }
    order.push(...collect(target, conns, missing, [...path, conn.name], budget));
  }
  order.push(conn);
  return order;
}

function apply(settings: Record<string, string>, entries: readonly [string, string][]): void {
  for (const [key, value] of entries) {
    if (key === 'also') continue;
    if (value === '') delete settings[key];
    else Object.defineProperty(settings, key, { value, enumerable: true, writable: true, configurable: true });
  }
}

const USER_AUTH = /eap|xauth/i;
const SHUNT_TYPES: Record<string, 'pass' | 'drop'> = { passthrough: 'pass', pass: 'pass', drop: 'drop', reject: 'drop' };

/**
 * multi-user when peers authenticate as users (EAP, XAuth) or the conn hands out virtual IPs
 * (rightsourceip, a pool or %config for attribute plugins). right=%any alone is not enough: a
 * branch on a dynamic address with rightsubnet is still site-to-site.
 */
function classify(settings: Record<string, string>): IpsecConnKind {
  const auto = settings.auto;
  if (auto === undefined || auto === 'ignore') return 'ignored';
  const auth = ['leftauth', 'rightauth', 'leftauth2', 'rightauth2', 'authby'];
  if (auth.some((k) => USER_AUTH.test(settings[k] ?? ''))) return 'multi-user';
  if (settings.rightsourceip) return 'multi-user';
  return 'site-to-site';
}
