/**
 * `--web.config.file`: the web configuration file of Prometheus' exporter-toolkit, so the
 * file node_exporter or blackbox_exporter already use works here unchanged: TLS (and
 * client certificates), basic auth users with bcrypt hashes, response headers, a rate
 * limit. Validation is strict and every error names the file, the key path and the reason.
 */
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { ServerOptions } from 'node:https';
import { isIP } from 'node:net';
import { dirname, resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import ipaddr from 'ipaddr.js';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { ConfigError } from './config.js';
import { parseDurationMs } from './duration.js';
import { CIPHER_SUITES, CURVES, TLS13_SUITES, TLS_VERSIONS, TLS_VERSION_ORDER, type TlsVersionName } from './tls-names.js';

const MAX_FILE_BYTES = 1 << 20;

export type ClientAuthType =
  | 'NoClientCert'
  | 'RequestClientCert'
  | 'RequireAnyClientCert'
  | 'VerifyClientCertIfGiven'
  | 'RequireAndVerifyClientCert';

const CLIENT_AUTH_TYPES: Readonly<Record<string, ClientAuthType>> = {
  NoClientCert: 'NoClientCert',
  RequestClientCert: 'RequestClientCert',
  RequireAnyClientCert: 'RequireAnyClientCert',
  // exporter-toolkit keeps this older spelling working.
  RequireClientCert: 'RequireAnyClientCert',
  VerifyClientCertIfGiven: 'VerifyClientCertIfGiven',
  RequireAndVerifyClientCert: 'RequireAndVerifyClientCert',
};

/**
 * The only response headers the file may set, with the values allowed where the header
 * is an enumeration: exporter-toolkit refuses every other header, so that no file can
 * override Content-Type, caching or authentication headers.
 */
const HEADER_RULES: Readonly<Record<string, readonly string[] | undefined>> = {
  'Strict-Transport-Security': undefined,
  'X-Content-Type-Options': ['nosniff'],
  'X-Frame-Options': ['deny', 'sameorigin'],
  'X-XSS-Protection': undefined,
  'Content-Security-Policy': undefined,
};

/** $2a$, $2b$ or $2y$, a two-digit cost 04-31, 22 characters of salt and 31 of hash. */
const BCRYPT_HASH = /^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/;

export interface TlsSettings {
  clientAuth: ClientAuthType;
  /** client_allowed_sans, IP addresses normalised; undefined: any. */
  allowedSans?: ReadonlySet<string>;
  /** For node:https: certificate, key, client CAs, versions, ciphers, requestCert, rejectUnauthorized. */
  serverOptions: ServerOptions;
  /** The certificate's subject and expiry, for the start-up log line. */
  certificate: { subject: string; validTo: string };
}

export interface WebConfig {
  file: string;
  /** Undefined: plain HTTP. */
  tls?: TlsSettings;
  /** User name to bcrypt hash; empty: no basic auth. */
  users: ReadonlyMap<string, string>;
  /** Set on every response, including 401, 403 and 429. */
  headers: Readonly<Record<string, string>>;
  rateLimit?: { intervalMs: number; burst: number };
  /** Accepted for compatibility; this exporter serves HTTP/1.1 only. */
  http2: boolean;
}

function oneOf<T>(table: Readonly<Record<string, T>>, what: string) {
  return z.string({ error: `expected a string naming ${what}` }).transform((s, ctx): T => {
    if (!Object.hasOwn(table, s)) {
      ctx.addIssue({ code: 'custom', message: `unknown ${what} "${s}" (one of ${Object.keys(table).join(', ')})` });
      return z.NEVER;
    }
    return table[s] as T;
  });
}

const text = (what: string) => z.string({ error: `expected ${what}` }).min(1, `${what} must not be empty`);

const tlsSchema = z.strictObject({
  cert: text('a PEM certificate').optional(),
  key: text('a PEM private key').optional(),
  client_ca: text('PEM CA certificates').optional(),
  cert_file: text('a file name').optional(),
  key_file: text('a file name').optional(),
  client_ca_file: text('a file name').optional(),
  client_auth_type: oneOf(CLIENT_AUTH_TYPES, 'client_auth_type').optional(),
  client_allowed_sans: z.array(text('a subject alternative name')).min(1).optional(),
  min_version: oneOf(Object.fromEntries(TLS_VERSION_ORDER.map((v) => [v, v])) as Record<string, TlsVersionName>, 'TLS version').optional(),
  max_version: oneOf(Object.fromEntries(TLS_VERSION_ORDER.map((v) => [v, v])) as Record<string, TlsVersionName>, 'TLS version').optional(),
  cipher_suites: z.array(oneOf(CIPHER_SUITES, 'cipher suite')).optional(),
  prefer_server_cipher_suites: z.boolean().optional(),
  curve_preferences: z.array(oneOf(CURVES, 'curve')).min(1).optional(),
});

const rateLimitSchema = z.strictObject({
  interval: z.union([z.literal(0), z.string()]).transform((v, ctx) => {
    if (v === 0 || v === '0') return 0;
    const ms = parseDurationMs(v);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `invalid duration "${v}" (use e.g. 100ms, 1s; 0 turns the limit off)` });
      return z.NEVER;
    }
    return ms;
  }),
  burst: z.number().int().min(0).optional(),
});

const fileSchema = z.strictObject({
  tls_server_config: tlsSchema.nullable().optional(),
  http_server_config: z
    .strictObject({
      http2: z.boolean().optional(),
      headers: z.record(z.string(), z.string({ error: 'expected a string' })).nullable().optional(),
    })
    .nullable()
    .optional(),
  basic_auth_users: z.record(z.string(), z.string({ error: 'expected a bcrypt hash' })).nullable().optional(),
  rate_limit: rateLimitSchema.nullable().optional(),
});

type TlsSection = z.output<typeof tlsSchema>;

function formatPath(path: readonly PropertyKey[]): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.').replace(/\.\[/g, '[');
}

class Failer {
  constructor(readonly file: string) {}
  fail(path: string, reason: string): never {
    throw new ConfigError(`${this.file}: ${path || '(top level)'}: ${reason}`);
  }
}

async function readSmall(f: Failer, path: string, name: string, dir: string): Promise<{ abs: string; text: string }> {
  const abs = resolve(dir, name);
  try {
    const buf = await readFile(abs);
    if (buf.length > MAX_FILE_BYTES) throw new Error(`larger than ${MAX_FILE_BYTES} bytes`);
    return { abs, text: buf.toString('utf8') };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return f.fail(path, `cannot read "${abs}": ${e.code === 'ENOENT' ? 'no such file' : e.code ?? e.message}`);
  }
}

/** Inline PEM or a file next to (or relative to) the web config file; exactly one of the two. */
async function pemSource(
  f: Failer,
  dir: string,
  inline: string | undefined,
  fileName: string | undefined,
  inlineKey: string,
  fileKey: string,
): Promise<{ path: string; where: string; pem: string } | undefined> {
  if (inline !== undefined && fileName !== undefined) {
    f.fail(`tls_server_config.${inlineKey}`, `give ${inlineKey} or ${fileKey}, not both`);
  }
  if (fileName !== undefined) {
    const { abs, text: pem } = await readSmall(f, `tls_server_config.${fileKey}`, fileName, dir);
    return { path: `tls_server_config.${fileKey}`, where: `tls_server_config.${fileKey} ("${abs}")`, pem };
  }
  if (inline !== undefined) return { path: `tls_server_config.${inlineKey}`, where: `tls_server_config.${inlineKey}`, pem: inline };
  return undefined;
}

function certificatesIn(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => new X509Certificate(b));
}

/** An IP address in one spelling, so "::1" and "0:0:0:0:0:0:0:1" compare equal. */
export function normalizeSan(value: string): string {
  return isIP(value) !== 0 ? ipaddr.process(value).toNormalizedString() : value;
}

async function buildTls(f: Failer, dir: string, t: TlsSection): Promise<TlsSettings | undefined> {
  const enabled =
    t.cert !== undefined ||
    t.cert_file !== undefined ||
    t.key !== undefined ||
    t.key_file !== undefined ||
    t.client_ca !== undefined ||
    t.client_ca_file !== undefined ||
    t.client_auth_type !== undefined;
  if (!enabled) {
    if (Object.values(t).some((v) => v !== undefined)) {
      f.fail('tls_server_config', 'sets TLS options but no certificate: give cert_file and key_file (or remove the section for plain HTTP)');
    }
    return undefined;
  }
  const cert = await pemSource(f, dir, t.cert, t.cert_file, 'cert', 'cert_file');
  if (!cert) return f.fail('tls_server_config', 'TLS needs a certificate: give cert_file (or cert)');
  const key = await pemSource(f, dir, t.key, t.key_file, 'key', 'key_file');
  if (!key) return f.fail('tls_server_config', 'TLS needs a private key: give key_file (or key)');
  const ca = await pemSource(f, dir, t.client_ca, t.client_ca_file, 'client_ca', 'client_ca_file');

  const certPath = cert.path;
  const keyPath = key.path;
  let leafs: X509Certificate[];
  try {
    leafs = certificatesIn(cert.pem);
  } catch {
    return f.fail(certPath, 'holds a certificate that cannot be parsed');
  }
  const leaf = leafs[0];
  if (!leaf) return f.fail(certPath, 'holds no PEM certificate');
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key.pem);
  } catch (err) {
    const encrypted = /passphrase|encrypted|bad decrypt/i.test(err instanceof Error ? err.message : '');
    return f.fail(keyPath, encrypted ? 'the key is encrypted; the web configuration has no passphrase, give an unencrypted key' : 'holds no PEM private key');
  }
  if (!leaf.checkPrivateKey(privateKey)) f.fail(keyPath, `is not the key of the certificate in ${cert.where}`);

  const clientAuth = t.client_auth_type ?? 'NoClientCert';
  let caCount = 0;
  if (ca) {
    const caPath = ca.path;
    try {
      caCount = certificatesIn(ca.pem).length;
    } catch {
      f.fail(caPath, 'holds a certificate that cannot be parsed');
    }
    if (caCount === 0) f.fail(caPath, 'holds no PEM certificate');
    if (clientAuth === 'NoClientCert') {
      f.fail('tls_server_config.client_auth_type', 'client CAs are configured but client_auth_type is NoClientCert: set RequireAndVerifyClientCert to use them');
    }
  }
  if ((clientAuth === 'VerifyClientCertIfGiven' || clientAuth === 'RequireAndVerifyClientCert') && !ca) {
    // Go would fall back to the system roots: any publicly trusted certificate would do.
    f.fail('tls_server_config.client_auth_type', `${clientAuth} verifies client certificates: give client_ca_file (or client_ca) with the CA that issues them`);
  }
  if (t.client_allowed_sans && clientAuth !== 'RequireAnyClientCert' && clientAuth !== 'RequireAndVerifyClientCert') {
    f.fail('tls_server_config.client_allowed_sans', 'needs client_auth_type RequireAndVerifyClientCert (or RequireAnyClientCert): otherwise a client may send no certificate at all');
  }

  const min = t.min_version ?? 'TLS12';
  const max = t.max_version ?? 'TLS13';
  if (TLS_VERSION_ORDER.indexOf(min) > TLS_VERSION_ORDER.indexOf(max)) {
    f.fail('tls_server_config.min_version', `${min} is above max_version ${max}`);
  }
  const serverOptions: ServerOptions = {
    cert: cert.pem,
    key: key.pem,
    ...(ca ? { ca: ca.pem } : {}),
    requestCert: clientAuth !== 'NoClientCert',
    // Only this type fails the handshake; the others are checked on every request.
    rejectUnauthorized: clientAuth === 'RequireAndVerifyClientCert',
    minVersion: TLS_VERSIONS[min],
    maxVersion: TLS_VERSIONS[max],
    honorCipherOrder: t.prefer_server_cipher_suites ?? true,
  };
  if (t.cipher_suites && t.cipher_suites.length > 0) {
    const tls12 = t.cipher_suites.filter((c): c is string => c !== null);
    if (tls12.length === 0 && TLS_VERSION_ORDER.indexOf(min) < TLS_VERSION_ORDER.indexOf('TLS13')) {
      f.fail('tls_server_config.cipher_suites', 'lists only TLS 1.3 suites, which are not configurable: name TLS 1.2 suites or set min_version: TLS13');
    }
    serverOptions.ciphers = [TLS13_SUITES, ...tls12].join(':');
  }
  if (t.curve_preferences) serverOptions.ecdhCurve = t.curve_preferences.join(':');
  try {
    createSecureContext(serverOptions);
  } catch (err) {
    f.fail('tls_server_config', `OpenSSL refuses these settings: ${err instanceof Error ? err.message : String(err)}`);
  }
  return {
    clientAuth,
    allowedSans: t.client_allowed_sans ? new Set(t.client_allowed_sans.map(normalizeSan)) : undefined,
    serverOptions,
    certificate: { subject: leaf.subject.replace(/\n/g, ', '), validTo: leaf.validTo },
  };
}

/**
 * Validates the text of a web configuration file; relative file names are taken from the
 * file's directory, as exporter-toolkit does. Reads the certificate, key and CA files it
 * names. Throws ConfigError naming the file, the key path and the reason; never shows a
 * key or a hash.
 */
export async function parseWebConfig(file: string, text: string): Promise<WebConfig> {
  const f: Failer = new Failer(file);
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(doc.errors.map((e) => `${file}: ${e.message.split('\n')[0]}`).join('\n'));
  }
  const parsed = fileSchema.safeParse(doc.toJS({ maxAliasCount: 100 }) ?? {});
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => `${file}: ${formatPath(i.path) || '(top level)'}: ${i.message}`).join('\n'),
    );
  }
  const c = parsed.data;

  const users = new Map<string, string>();
  for (const [user, hash] of Object.entries(c.basic_auth_users ?? {})) {
    const path = `basic_auth_users.${user}`;
    if (user === '' || user.includes(':')) f.fail(path, 'a user name is not empty and has no ":" (basic auth splits at the first ":")');
    // The value is not echoed: it may be a password written where its hash belongs.
    if (!BCRYPT_HASH.test(hash)) f.fail(path, 'not a bcrypt hash (expected $2y$10$ followed by 53 characters, as `htpasswd -nBC 10 ""` prints)');
    users.set(user, hash);
  }

  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(c.http_server_config?.headers ?? {})) {
    const path = `http_server_config.headers.${name}`;
    const canonical = Object.keys(HEADER_RULES).find((h) => h.toLowerCase() === name.toLowerCase());
    if (!canonical) f.fail(path, `this header cannot be set (only ${Object.keys(HEADER_RULES).join(', ')}, as in exporter-toolkit)`);
    const allowed = HEADER_RULES[canonical];
    if (value === '') continue; // blank: unset
    if (allowed && !allowed.includes(value)) f.fail(path, `"${value}" is not one of ${allowed.join(', ')}`);
    if (/[\r\n\0]/.test(value)) f.fail(path, 'a header value is one line');
    headers[canonical] = value;
  }

  let rateLimit: WebConfig['rateLimit'];
  if (c.rate_limit && c.rate_limit.interval > 0) {
    const burst = c.rate_limit.burst ?? 0;
    if (burst < 1) f.fail('rate_limit.burst', 'with an interval set, burst must be at least 1 (0 would refuse every request)');
    rateLimit = { intervalMs: c.rate_limit.interval, burst };
  }

  const tls = c.tls_server_config ? await buildTls(f, dirname(resolve(file)), c.tls_server_config) : undefined;
  return { file, tls, users, headers, rateLimit, http2: c.http_server_config?.http2 ?? true };
}

export async function loadWebConfig(file: string): Promise<WebConfig> {
  let text: string;
  try {
    const buf = await readFile(file);
    if (buf.length > MAX_FILE_BYTES) throw new Error(`larger than ${MAX_FILE_BYTES} bytes`);
    text = buf.toString('utf8');
  } catch (err) {
    throw new ConfigError(`${file}: cannot read: ${err instanceof Error ? err.message : String(err)}`);
  }
  return parseWebConfig(file, text);
}
