import type { Certificate, Crl } from '../../model/snapshot.js';

/*
 * `ipsec listcerts --utc`, `ipsec listcacerts --utc` and `ipsec listcrls --utc` (stroke) →
 * certificates and CRLs. Blocks start with `subject:` (certificates) or `issuer:` (CRLs)
 * under a "List of ..." title; lines this parser does not know are skipped, and a block
 * without a readable expiry is dropped rather than failing the probe.
 */

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MAX_NAME = 256;

/**
 * charon's %T with --utc: "Jan 01 03:40:28 UTC 2027". Without --utc (or from a build that
 * ignores it) the zone is missing and the time is the gateway's local time; read as UTC.
 */
export function parseStrokeTime(text: string): number | undefined {
  const m = /^([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2})(?: UTC)? (\d{4})$/.exec(text.trim());
  if (!m) return undefined;
  const month = MONTHS.indexOf(m[1] ?? '');
  if (month < 0) return undefined;
  return Date.UTC(Number(m[6]), month, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])) / 1000;
}

/** The last CN of a strongSwan DN string ("C=CH, O=Org, CN=name"); undefined without one. */
function cnOf(dn: string): string | undefined {
  const all = [...dn.matchAll(/(?:^|, )CN=(.*?)(?=, [A-Za-z0-9.]+=|$)/g)].map((m) => m[1] ?? '');
  return all[all.length - 1] || undefined;
}

const clip = (s: string) => (s.length > MAX_NAME ? s.slice(0, MAX_NAME) : s);
const unquote = (s: string) => s.trim().replace(/^"(.*)"$/, '$1');

interface Block {
  title: string;
  fields: [string, string][];
}

function blocks(text: string): Block[] {
  const out: Block[] = [];
  let title = '';
  let current: Block | undefined;
  let lastKey = '';
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (line.trim() === '') continue;
    if (/^List of /.test(line)) {
      title = line;
      current = undefined;
      continue;
    }
    const kv = /^ {2}([A-Za-z][A-Za-z ]*?):\s+(.*)$/.exec(line) ?? /^ {2}([A-Za-z][A-Za-z ]*?):$/.exec(line);
    if (kv) {
      const key = kv[1] ?? '';
      if (key === 'subject' || (key === 'issuer' && (!current || current.fields.some(([k]) => k === 'issuer')))) {
        current = { title, fields: [] };
        out.push(current);
      }
      lastKey = key;
      current?.fields.push([key, kv[2] ?? '']);
    } else if (/^\s{4,}\S/.test(line) && current) {
      // Continuation ("not after ...", "next on ..."), kept under the key it continues.
      current.fields.push([lastKey, line.trim()]);
    }
  }
  return out;
}

function field(b: Block, key: string): string[] {
  return b.fields.filter(([k]) => k === key).map(([, v]) => v);
}

function timeAfter(values: string[], word: RegExp): number | undefined {
  for (const v of values) {
    const m = word.exec(v);
    if (m) return parseStrokeTime((m[1] ?? '').replace(/,.*$/, ''));
  }
  return undefined;
}

/** Certificates from listcerts/listcacerts output; `ca` marks the listcacerts text. */
export function parseStrokeCertificates(text: string, ca: boolean): Certificate[] {
  const out: Certificate[] = [];
  for (const b of blocks(text)) {
    const subjectDn = field(b, 'subject')[0];
    if (subjectDn === undefined) continue;
    const validity = field(b, 'validity');
    const notAfter = timeAfter(validity, /not after\s+(.+)$/);
    if (notAfter === undefined) continue;
    const notBefore = timeAfter(validity, /not before\s+(.+)$/);
    const dn = unquote(subjectDn);
    const issuerDn = unquote(field(b, 'issuer')[0] ?? '');
    const san = field(b, 'altNames')[0]?.split(', ')[0];
    const flags = field(b, 'flags')[0] ?? '';
    const serial = field(b, 'serial')[0];
    out.push({
      subject: clip(cnOf(dn) ?? san ?? dn),
      issuer: clip(cnOf(issuerDn) ?? issuerDn),
      role: ca || /(^|\s)CA(\s|$)/.test(flags) || /CA Certificates/.test(b.title) ? 'ca' : 'end-entity',
      hasPrivateKey: field(b, 'pubkey').some((v) => /has private key/.test(v)),
      ...(notBefore !== undefined ? { notBeforeTimestamp: notBefore } : {}),
      notAfterTimestamp: notAfter,
      ...(serial ? { serial: serial.replaceAll(':', '').toUpperCase() } : {}),
    });
  }
  return out;
}

/** CRLs from listcrls output: "update: this on T, ok" / "next on T, ok (...)" (5.9), or "updates: this T" / "next T" (older). */
export function parseStrokeCrls(text: string): Crl[] {
  const out: Crl[] = [];
  for (const b of blocks(text)) {
    if (field(b, 'subject').length > 0) continue;
    const issuerDn = field(b, 'issuer')[0];
    if (issuerDn === undefined) continue;
    const updates = [...field(b, 'update'), ...field(b, 'updates')];
    const thisUpdate = timeAfter(updates, /^this (?:on )?(.+)$/);
    const nextUpdate = timeAfter(updates, /^next (?:on )?(.+)$/);
    const dn = unquote(issuerDn);
    out.push({
      issuer: clip(cnOf(dn) ?? dn),
      ...(thisUpdate !== undefined ? { thisUpdateTimestamp: thisUpdate } : {}),
      ...(nextUpdate !== undefined ? { nextUpdateTimestamp: nextUpdate } : {}),
    });
  }
  return out;
}
