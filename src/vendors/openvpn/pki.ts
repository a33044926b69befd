import { posix } from 'node:path';
import { z } from 'zod';
import type { ProbeLog } from '../../log/probe-log.js';
import type { Certificate, Crl } from '../../model/snapshot.js';
import { shellQuote, type RemoteSection, type SectionResult } from '../../transport/ssh/sections.js';
import { decodeCertificate, decodeCrl } from '../../util/x509.js';

/*
 * The certificates and CRLs an OpenVPN server is configured with, read over SSH in the
 * same exec as its status files.
 *
 * A server configuration holds secrets beside the public files (inline <key>, <tls-crypt>,
 * <secret> blocks; key, pkcs12, tls-auth, auth-user-pass files). So both the configuration
 * and every file it names pass through a filter ON THE GATEWAY that lets out only:
 *   - the paths of the `ca`, `cert`, `extra-certs` and `crl-verify` directives (never the
 *     path, let alone the content, of any other directive);
 *   - the lines of PEM CERTIFICATE and X509 CRL blocks, from those files and from inline
 *     <ca>, <cert>, <extra-certs> and <crl-verify> blocks. A private key block never matches:
 *     even a `cert` file that also holds its key (or a mislabelled one) sends only its
 *     certificate blocks.
 * Paths from the configuration reach the shell only as the value of a variable ("$p"),
 * never as script text, so no file name can inject a command.
 */

/** The options of every OpenVPN prober that reads server configurations over SSH. */
export const openvpnPkiOptions = {
  /**
   * Server configurations whose `ca`, `cert`, `extra-certs` and `crl-verify` (files or
   * inline blocks) give the certificate and CRL expiry series; filtered on the gateway.
   */
  config_files: z
    .array(z.string().regex(/^\/[^\0\n]{0,1023}$/, 'an absolute path'))
    .max(16)
    .default([]),
  /** Read the certificates and CRLs of config_files (the same switch as strongSwan's probers). */
  certificates: z.boolean().default(true),
};

type PkiOptions = z.output<z.ZodObject<typeof openvpnPkiOptions>>;

/** The configurations a probe reads: none when certificates are off. */
export function pkiConfigFiles(options: PkiOptions): string[] {
  return options.certificates ? options.config_files : [];
}

/** One section per configuration, with ids `pki0`, `pki1`, ... for collectOpenvpnPki. */
export function openvpnPkiSections(configFiles: readonly string[], prefix: string): RemoteSection[] {
  return configFiles.map((path, i) => openvpnPkiSection(`pki${i}`, path, prefix));
}

/**
 * The certificates and CRLs of every configuration from the sections' results. An
 * unreadable file costs its series (and is logged), not the probe.
 */
export function collectOpenvpnPki(
  configFiles: readonly string[],
  results: ReadonlyMap<string, SectionResult>,
  log: ProbeLog,
): { certificates: Certificate[]; crls: Crl[] } {
  const pki = { certificates: [] as Certificate[], crls: [] as Crl[] };
  for (const [i, path] of configFiles.entries()) {
    const read = parseOpenvpnPki(path, results.get(`pki${i}`)?.output ?? '');
    pki.certificates.push(...read.certificates);
    pki.crls.push(...read.crls);
    for (const note of read.notes) log.warn('certificates: not read', { note });
    log.debug('certificates read', { config: path, certificates: read.certificates.length, crls: read.crls.length });
  }
  return pki;
}

/** Directives naming a public file, and the inline blocks of the same names, that are read. */
const PUBLIC_DIRECTIVES = ['ca', 'cert', 'extra-certs', 'crl-verify'] as const;
type PkiKind = (typeof PUBLIC_DIRECTIVES)[number];

/** Bytes of one named file the gateway reads at most (a CRL of a large CA is a few MiB). */
const MAX_FILE_BYTES = 16 << 20;

/**
 * The PEM filter: certificate and CRL blocks pass, nothing else. Inside a block only
 * base64 lines pass; any other line (another BEGIN, a header) ends the block unprinted.
 */
const PEM_FUNCTION = `
function trim(s) { sub(/\\r$/, "", s); sub(/^[ \\t]+/, "", s); sub(/[ \\t]+$/, "", s); return s }
function pem(l) {
  l = trim(l)
  if (l ~ /^-----BEGIN (CERTIFICATE|X509 CRL)-----$/) { inpem = 1; print l; return }
  if (!inpem) return
  if (l ~ /^-----END (CERTIFICATE|X509 CRL)-----$/) { inpem = 0; print l; return }
  if (l ~ /^[A-Za-z0-9+\\/=]+$/) { print l; return }
  inpem = 0
}`;

/** Filters one file's content (stdin) to its certificate and CRL blocks. POSIX awk. */
export const PEM_FILTER_AWK = `${PEM_FUNCTION}
{ pem($0) }`;

/**
 * Reads an OpenVPN configuration (stdin; its directory in ENVIRON["VPNX_DIR"]) and prints
 *   @@inline KIND, then the filtered PEM lines of that inline block, then @@end
 *   @@note TEXT        for what is deliberately not read (crl-verify dir, capath, pkcs12, config)
 *   @@file KIND PATH   at the end, one per public file, PATH resolved as OpenVPN would:
 *                      against the last `cd` (itself relative to the previous one), else the
 *                      configuration's directory (where openvpn-server@.service runs it).
 * Words are split as OpenVPN's parse_line does: "double" and 'single' quotes, backslash
 * escapes outside single quotes, `#` or `;` starting a word begins a comment, and an
 * optional leading `--` on the directive. Every other line is dropped unprinted.
 */
export const CONFIG_PLAN_AWK = `${PEM_FUNCTION}
function words(s,   i, c, q, w, started) {
  nw = 0; w = ""; q = ""; started = 0
  for (i = 1; i <= length(s); i++) {
    c = substr(s, i, 1)
    if (q == "" && (c == " " || c == "\\t")) { if (started) { W[++nw] = w; w = ""; started = 0 } ; continue }
    if (q == "" && !started && (c == "#" || c == ";")) break
    started = 1
    if (c == "\\\\" && q != "'") { i++; w = w substr(s, i, 1); continue }
    if (q == "" && (c == "\\"" || c == "'")) { q = c; continue }
    if (q != "" && c == q) { q = ""; continue }
    w = w c
  }
  if (started) W[++nw] = w
  return nw
}
function resolve(p) { return p ~ /^\\// ? p : base "/" p }
BEGIN {
  base = ENVIRON["VPNX_DIR"]; n = 0; block = ""
  want["ca"] = 1; want["cert"] = 1; want["extra-certs"] = 1; want["crl-verify"] = 1
}
{ sub(/\\r$/, "") }
block != "" {
  if ($0 ~ /^[ \\t]*<\\/[A-Za-z0-9_-]+>[ \\t]*$/) {
    t = $0; gsub(/[ \\t<>\\/]/, "", t)
    if (t == block) { if (keep) print "@@end"; block = ""; inpem = 0 }
    next
  }
  if (keep) pem($0)
  next
}
/^[ \\t]*<[A-Za-z0-9_-]+>[ \\t]*$/ {
  t = $0; gsub(/[ \\t<>]/, "", t); block = t; keep = (t in want); inpem = 0
  if (keep) print "@@inline " t
  next
}
{
  if (words($0) == 0) next
  d = W[1]; sub(/^--/, "", d)
  if (d == "cd" && nw >= 2) { base = resolve(W[2]); next }
  if (d == "crl-verify" && nw >= 3 && W[3] == "dir") { print "@@note crl-verify in dir form (a directory of CRLs named by serial) is not read"; next }
  if (d == "capath") { print "@@note capath (a hashed directory of CAs) is not read"; next }
  if (d == "pkcs12") { print "@@note the certificate inside the pkcs12 file is not read: that file holds the private key"; next }
  if (d == "config") { print "@@note a nested config directive is not followed"; next }
  if ((d in want) && nw >= 2 && W[2] != "[[INLINE]]") { n++; kind[n] = d; path[n] = W[2] }
}
END { for (i = 1; i <= n; i++) print "@@file " kind[i] " " resolve(path[i]) }`;

/**
 * One section per configuration file: the filtered plan, then each named file, filtered.
 * Errors of `cat` (missing file, permission denied) go around the filter (fd 3) so the
 * reason reaches the exporter; they hold a path and a reason, never file content.
 */
export function openvpnPkiSection(id: string, configFile: string, prefix: string): RemoteSection {
  const dir = posix.dirname(configFile);
  const readFiltered = (path: string, awk: string) => `{ ${prefix}cat -- ${path} </dev/null 2>&3 | head -c ${MAX_FILE_BYTES} | awk ${shellQuote(awk)}; } 3>&1`;
  return {
    id,
    command:
      `c=${shellQuote(configFile)}; ` +
      `{ ${prefix}cat -- "$c" </dev/null 2>&3 | VPNX_DIR=${shellQuote(dir)} awk ${shellQuote(CONFIG_PLAN_AWK)}; } 3>&1 | ` +
      `while IFS= read -r l; do case $l in '@@file '*) r=\${l#@@file }; p=\${r#* }; ` +
      `printf '%s\\n' "$l"; ${readFiltered('"$p"', PEM_FILTER_AWK)}; printf '@@end\\n';; ` +
      `*) printf '%s\\n' "$l";; esac; done`,
  };
}

export interface OpenvpnPki {
  certificates: Certificate[];
  crls: Crl[];
  /** Files that could not be read (with the gateway's reason) and what was deliberately skipped. */
  notes: string[];
}

interface Source {
  kind: PkiKind;
  /** The path, or undefined for an inline block. */
  path?: string;
  blocks: { type: 'CERTIFICATE' | 'X509 CRL'; der: Buffer }[];
  /** Lines that are not PEM: the gateway's error messages for this file. */
  errors: string[];
}

function sources(text: string): { sources: Source[]; notes: string[]; stray: string[] } {
  const out: Source[] = [];
  const notes: string[] = [];
  const stray: string[] = [];
  let current: Source | undefined;
  let pem: { type: 'CERTIFICATE' | 'X509 CRL'; lines: string[] } | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line === '') continue;
    const file = /^@@file (\S+) (.+)$/.exec(line);
    const inline = /^@@inline (\S+)$/.exec(line);
    if (file || inline) {
      const kind = (file?.[1] ?? inline?.[1]) as PkiKind;
      current = PUBLIC_DIRECTIVES.includes(kind) ? { kind, ...(file ? { path: file[2] } : {}), blocks: [], errors: [] } : undefined;
      if (current) out.push(current);
      pem = undefined;
      continue;
    }
    if (line === '@@end') {
      current = undefined;
      pem = undefined;
      continue;
    }
    if (line.startsWith('@@note ')) {
      notes.push(line.slice(7));
      continue;
    }
    const begin = /^-----BEGIN (CERTIFICATE|X509 CRL)-----$/.exec(line);
    if (begin && current) {
      pem = { type: begin[1] as 'CERTIFICATE' | 'X509 CRL', lines: [] };
      continue;
    }
    if (pem && current && line === `-----END ${pem.type}-----`) {
      current.blocks.push({ type: pem.type, der: Buffer.from(pem.lines.join(''), 'base64') });
      pem = undefined;
      continue;
    }
    if (pem && /^[A-Za-z0-9+/=]+$/.test(line)) {
      pem.lines.push(line);
      continue;
    }
    pem = undefined;
    if (current?.path !== undefined) current.errors.push(line.slice(0, 200));
    else stray.push(line.slice(0, 200));
  }
  return { sources: out, notes, stray };
}

/**
 * The certificates and CRLs of one server from its section's output. `cert`'s first
 * certificate is the server's own (OpenVPN holds its key); the rest of that file and
 * `extra-certs` are its chain; every certificate of `ca` is a trust anchor; CRLs count
 * wherever they appear (OpenVPN also loads CRLs found in the `ca` file).
 */
export function parseOpenvpnPki(configFile: string, text: string): OpenvpnPki {
  const parsed = sources(text);
  const certificates: Certificate[] = [];
  const crls: Crl[] = [];
  const notes = parsed.notes.map((n) => `${configFile}: ${n}`);
  if (parsed.stray.length > 0) notes.push(`${configFile}: ${parsed.stray.join(' ')}`);
  for (const s of parsed.sources) {
    const where = s.path ?? `inline <${s.kind}> in ${configFile}`;
    if (s.errors.length > 0) notes.push(`${s.kind} ${where}: ${s.errors.join(' ')}`);
    else if (s.blocks.length === 0) notes.push(`${s.kind} ${where}: no PEM certificate or CRL in it`);
    let first = true;
    for (const b of s.blocks) {
      if (b.type === 'X509 CRL') {
        const crl = decodeCrl(b.der);
        if (crl) crls.push(crl);
        else notes.push(`${s.kind} ${where}: a CRL that does not decode`);
        continue;
      }
      const own = s.kind === 'cert' && first;
      first = false;
      const cert = decodeCertificate(b.der, { hasPrivateKey: own, ...(s.kind === 'ca' ? { ca: true } : own ? { ca: false } : {}) });
      if (cert) certificates.push(cert);
      else notes.push(`${s.kind} ${where}: a certificate that does not decode`);
    }
  }
  return { certificates, crls, notes };
}
