import { createHmac, timingSafeEqual } from 'node:crypto';

export interface KnownHostLine {
  marker: 'revoked' | 'cert-authority' | undefined;
  patterns: string[];
  keyType: string;
  key: Buffer;
}

export type KnownHostsVerdict =
  | { kind: 'trusted' }
  | { kind: 'revoked' }
  /** `others` lists key types recorded for the host, so a caller can say "changed" rather than "unknown". */
  | { kind: 'unknown'; others: string[] };

/** Lines that do not parse are skipped, as OpenSSH does. */
export function parseKnownHosts(text: string): KnownHostLine[] {
  const out: KnownHostLine[] = [];
  for (const raw of text.split('\n')) {
    const fields = raw.trim().split(/\s+/);
    if (fields[0] === undefined || fields[0] === '' || fields[0].startsWith('#')) continue;
    let marker: KnownHostLine['marker'];
    if (fields[0].startsWith('@')) {
      const m = fields.shift();
      if (m === '@revoked') marker = 'revoked';
      else if (m === '@cert-authority') marker = 'cert-authority';
      else continue;
    }
    const [hosts, keyType, b64] = fields;
    if (hosts === undefined || keyType === undefined || b64 === undefined) continue;
    const key = Buffer.from(b64, 'base64');
    if (key.length === 0) continue;
    out.push({ marker, patterns: hosts.split(','), keyType, key });
  }
  return out;
}

/** OpenSSH records non-default ports as "[host]:port". */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/**
 * The lines about this host. A connection keeps its host key check for as long as it
 * lives: holding the whole file there would cost every pooled connection the memory of
 * every other gateway's lines (fleet-wide known_hosts × pooled connections).
 */
export function linesForHost(lines: KnownHostLine[], host: string, port: number): KnownHostLine[] {
  const name = knownHostsName(host, port);
  // Copies, not views: a small Buffer is a view of a shared 8 KiB slab and a substring a
  // view of the whole file's text, and either would keep its parent alive.
  return lines
    .filter((line) => hostMatches(line.patterns, name))
    .map((line) => {
      const key = Buffer.allocUnsafeSlow(line.key.length);
      line.key.copy(key);
      return { marker: line.marker, patterns: line.patterns.map(detach), keyType: detach(line.keyType), key };
    });
}

function detach(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
}

export function checkKnownHosts(lines: KnownHostLine[], host: string, port: number, presented: Buffer): KnownHostsVerdict {
  const name = knownHostsName(host, port);
  let trusted = false;
  const others: string[] = [];
  for (const line of lines) {
    if (!hostMatches(line.patterns, name)) continue;
    const same = line.key.equals(presented);
    // Revocation wins over any number of trusting lines.
    if (line.marker === 'revoked') {
      if (same) return { kind: 'revoked' };
      continue;
    }
    // Host certificates are not supported by ssh2, so CA lines can never vouch for a plain key.
    if (line.marker === 'cert-authority') continue;
    if (same) trusted = true;
    else others.push(line.keyType);
  }
  return trusted ? { kind: 'trusted' } : { kind: 'unknown', others };
}

/** Key types recorded for the host, so the handshake can ask for one we can check. */
export function knownKeyTypes(lines: KnownHostLine[], host: string, port: number): string[] {
  const name = knownHostsName(host, port);
  const types = new Set<string>();
  for (const line of lines) {
    if (line.marker === undefined && hostMatches(line.patterns, name)) types.add(line.keyType);
  }
  return [...types];
}

function hostMatches(patterns: string[], name: string): boolean {
  let matched = false;
  for (const p of patterns) {
    if (p.startsWith('|1|')) {
      if (hashedMatches(p, name)) matched = true;
    } else if (p.startsWith('!')) {
      // A negated pattern vetoes the whole line, whatever else matched.
      if (globMatches(p.slice(1), name)) return false;
    } else if (globMatches(p, name)) {
      matched = true;
    }
  }
  return matched;
}

function hashedMatches(pattern: string, name: string): boolean {
  const [, , salt64, hash64] = pattern.split('|');
  if (salt64 === undefined || hash64 === undefined) return false;
  const want = Buffer.from(hash64, 'base64');
  const got = createHmac('sha1', Buffer.from(salt64, 'base64')).update(name).digest();
  return want.length === got.length && timingSafeEqual(want, got);
}

function globMatches(pattern: string, name: string): boolean {
  if (!/[*?]/.test(pattern)) return pattern.toLowerCase() === name.toLowerCase();
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 'i').test(name);
}
