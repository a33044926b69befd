/**
 * tls_server_config of the exporter-toolkit web configuration: the section's schema, and
 * from it the node:https server options, checked as far as OpenSSL lets us before the
 * server starts (certificate and key match, CAs parse, versions and ciphers accepted).
 */
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import type { ServerOptions } from 'node:https';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { configError, readBounded } from './config-file.js';
import { CIPHER_SUITES, CURVES, TLS13_SUITES, TLS_VERSIONS, TLS_VERSION_ORDER, type TlsVersionName } from './tls-names.js';

const MAX_PEM_BYTES = 1 << 20;

export type ClientAuthType = 'NoClientCert' | 'RequestClientCert' | 'RequireAnyClientCert' | 'VerifyClientCertIfGiven' | 'RequireAndVerifyClientCert';

const CLIENT_AUTH_TYPES: Readonly<Record<string, ClientAuthType>> = {
  NoClientCert: 'NoClientCert',
  RequestClientCert: 'RequestClientCert',
  RequireAnyClientCert: 'RequireAnyClientCert',
  // exporter-toolkit keeps this older spelling working.
  RequireClientCert: 'RequireAnyClientCert',
  VerifyClientCertIfGiven: 'VerifyClientCertIfGiven',
  RequireAndVerifyClientCert: 'RequireAndVerifyClientCert',
};

export interface TlsSettings {
  clientAuth: ClientAuthType;
  /** client_allowed_sans, IP addresses normalised; undefined: any. */
  allowedSans?: ReadonlySet<string>;
  /** For node:https: certificate, key, client CAs, versions, ciphers, requestCert, rejectUnauthorized. */
  serverOptions: ServerOptions;
  /** The certificate's subject and expiry, for the start-up log line. */
  certificate: { subject: string; validTo: string };
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

export const tlsSectionSchema = z.strictObject({
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

type TlsSection = z.output<typeof tlsSectionSchema>;

/** Throws the ConfigError for a key of the file; typed `never` so checks narrow after it. */
type Fail = (path: readonly PropertyKey[], reason: string) => never;

const SECTION = 'tls_server_config';

async function readPem(fail: Fail, path: readonly PropertyKey[], name: string, dir: string): Promise<{ abs: string; text: string }> {
  const abs = resolve(dir, name);
  try {
    return { abs, text: await readBounded(abs, MAX_PEM_BYTES) };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return fail(path, `cannot read "${abs}": ${e.code === 'ENOENT' ? 'no such file' : (e.code ?? e.message)}`);
  }
}

/** Inline PEM or a file next to (or relative to) the web config file; exactly one of the two. */
async function pemSource(
  fail: Fail,
  dir: string,
  inline: string | undefined,
  fileName: string | undefined,
  inlineKey: string,
  fileKey: string,
): Promise<{ path: readonly PropertyKey[]; where: string; pem: string } | undefined> {
  if (inline !== undefined && fileName !== undefined) {
    fail([SECTION, inlineKey], `give ${inlineKey} or ${fileKey}, not both`);
  }
  if (fileName !== undefined) {
    const path = [SECTION, fileKey];
    const { abs, text: pem } = await readPem(fail, path, fileName, dir);
    return { path, where: `${SECTION}.${fileKey} ("${abs}")`, pem };
  }
  if (inline !== undefined) return { path: [SECTION, inlineKey], where: `${SECTION}.${inlineKey}`, pem: inline };
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

/**
 * The validated section to server options; undefined when it names no certificate (plain
 * HTTP). `dir` is where relative file names are taken from. Throws ConfigError naming
 * `file`, the key and the reason; never shows a key.
 */
export async function buildTls(file: string, dir: string, t: TlsSection): Promise<TlsSettings | undefined> {
  const fail: Fail = (path, reason) => {
    throw configError(file, path, reason);
  };
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
      fail([SECTION], 'sets TLS options but no certificate: give cert_file and key_file (or remove the section for plain HTTP)');
    }
    return undefined;
  }
  const cert = await pemSource(fail, dir, t.cert, t.cert_file, 'cert', 'cert_file');
  if (!cert) return fail([SECTION], 'TLS needs a certificate: give cert_file (or cert)');
  const key = await pemSource(fail, dir, t.key, t.key_file, 'key', 'key_file');
  if (!key) return fail([SECTION], 'TLS needs a private key: give key_file (or key)');
  const ca = await pemSource(fail, dir, t.client_ca, t.client_ca_file, 'client_ca', 'client_ca_file');

  const certPath = cert.path;
  const keyPath = key.path;
  let leafs: X509Certificate[];
  try {
    leafs = certificatesIn(cert.pem);
  } catch {
    return fail(certPath, 'holds a certificate that cannot be parsed');
  }
  const leaf = leafs[0];
  if (!leaf) return fail(certPath, 'holds no PEM certificate');
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key.pem);
  } catch (err) {
    const encrypted = /passphrase|encrypted|bad decrypt/i.test(err instanceof Error ? err.message : '');
    return fail(keyPath, encrypted ? 'the key is encrypted; the web configuration has no passphrase, give an unencrypted key' : 'holds no PEM private key');
  }
  if (!leaf.checkPrivateKey(privateKey)) fail(keyPath, `is not the key of the certificate in ${cert.where}`);

  const clientAuth = t.client_auth_type ?? 'NoClientCert';
  let caCount = 0;
  if (ca) {
    const caPath = ca.path;
    try {
      caCount = certificatesIn(ca.pem).length;
    } catch {
      fail(caPath, 'holds a certificate that cannot be parsed');
    }
    if (caCount === 0) fail(caPath, 'holds no PEM certificate');
    if (clientAuth === 'NoClientCert') {
      fail([SECTION, 'client_auth_type'], 'client CAs are configured but client_auth_type is NoClientCert: set RequireAndVerifyClientCert to use them');
    }
  }
  if ((clientAuth === 'VerifyClientCertIfGiven' || clientAuth === 'RequireAndVerifyClientCert') && !ca) {
    // Go would fall back to the system roots: any publicly trusted certificate would do.
    fail([SECTION, 'client_auth_type'], `${clientAuth} verifies client certificates: give client_ca_file (or client_ca) with the CA that issues them`);
  }
  if (t.client_allowed_sans && clientAuth !== 'RequireAnyClientCert' && clientAuth !== 'RequireAndVerifyClientCert') {
    fail(
      [SECTION, 'client_allowed_sans'],
      'needs client_auth_type RequireAndVerifyClientCert (or RequireAnyClientCert): otherwise a client may send no certificate at all',
    );
  }

  const min = t.min_version ?? 'TLS12';
  const max = t.max_version ?? 'TLS13';
  if (TLS_VERSION_ORDER.indexOf(min) > TLS_VERSION_ORDER.indexOf(max)) {
    fail([SECTION, 'min_version'], `${min} is above max_version ${max}`);
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
      fail([SECTION, 'cipher_suites'], 'lists only TLS 1.3 suites, which are not configurable: name TLS 1.2 suites or set min_version: TLS13');
    }
    serverOptions.ciphers = [TLS13_SUITES, ...tls12].join(':');
  }
  if (t.curve_preferences) serverOptions.ecdhCurve = t.curve_preferences.join(':');
  try {
    createSecureContext(serverOptions);
  } catch (err) {
    fail([SECTION], `OpenSSL refuses these settings: ${err instanceof Error ? err.message : String(err)}`);
  }
  return {
    clientAuth,
    allowedSans: t.client_allowed_sans ? new Set(t.client_allowed_sans.map(normalizeSan)) : undefined,
    serverOptions,
    certificate: { subject: leaf.subject.replace(/\n/g, ', '), validTo: leaf.validTo },
  };
}
