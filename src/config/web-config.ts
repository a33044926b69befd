/**
 * `--web.config.file`: the web configuration file of Prometheus' exporter-toolkit, so the
 * file node_exporter or blackbox_exporter already use works here unchanged: TLS (and
 * client certificates), basic auth users with bcrypt hashes, response headers, a rate
 * limit. Validation is strict and every error names the file, the key path and the reason.
 */
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { configError, issuesError, parseYaml, readYamlFile } from './config-file.js';
import { parseDurationMs } from './duration.js';
import { buildTls, tlsSectionSchema, type TlsSettings } from './web-tls.js';

const MAX_FILE_BYTES = 1 << 20;

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
  tls_server_config: tlsSectionSchema.nullable().optional(),
  http_server_config: z
    .strictObject({
      http2: z.boolean().optional(),
      headers: z
        .record(z.string(), z.string({ error: 'expected a string' }))
        .nullable()
        .optional(),
    })
    .nullable()
    .optional(),
  basic_auth_users: z
    .record(z.string(), z.string({ error: 'expected a bcrypt hash' }))
    .nullable()
    .optional(),
  rate_limit: rateLimitSchema.nullable().optional(),
});

/**
 * Validates the text of a web configuration file; relative file names are taken from the
 * file's directory, as exporter-toolkit does. Reads the certificate, key and CA files it
 * names. Throws ConfigError naming the file, the key path and the reason; never shows a
 * key or a hash.
 */
export async function parseWebConfig(file: string, text: string): Promise<WebConfig> {
  return fromDocument(file, parseYaml(file, text));
}

export async function loadWebConfig(file: string): Promise<WebConfig> {
  return fromDocument(file, await readYamlFile(file, MAX_FILE_BYTES));
}

async function fromDocument(file: string, root: unknown): Promise<WebConfig> {
  const fail = (path: readonly PropertyKey[], reason: string): never => {
    throw configError(file, path, reason);
  };
  const parsed = fileSchema.safeParse(root ?? {});
  if (!parsed.success) throw issuesError(file, parsed.error);
  const c = parsed.data;

  const users = new Map<string, string>();
  for (const [user, hash] of Object.entries(c.basic_auth_users ?? {})) {
    const path = ['basic_auth_users', user];
    if (user === '' || user.includes(':')) fail(path, 'a user name is not empty and has no ":" (basic auth splits at the first ":")');
    // The value is not echoed: it may be a password written where its hash belongs.
    if (!BCRYPT_HASH.test(hash)) fail(path, 'not a bcrypt hash (expected $2y$10$ followed by 53 characters, as `htpasswd -nBC 10 ""` prints)');
    users.set(user, hash);
  }

  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(c.http_server_config?.headers ?? {})) {
    const path = ['http_server_config', 'headers', name];
    const canonical = Object.keys(HEADER_RULES).find((h) => h.toLowerCase() === name.toLowerCase());
    if (!canonical) return fail(path, `this header cannot be set (only ${Object.keys(HEADER_RULES).join(', ')}, as in exporter-toolkit)`);
    const allowed = HEADER_RULES[canonical];
    if (value === '') continue; // blank: unset
    if (allowed && !allowed.includes(value)) fail(path, `"${value}" is not one of ${allowed.join(', ')}`);
    if (/[\r\n\0]/.test(value)) fail(path, 'a header value is one line');
    headers[canonical] = value;
  }

  let rateLimit: WebConfig['rateLimit'];
  if (c.rate_limit && c.rate_limit.interval > 0) {
    const burst = c.rate_limit.burst ?? 0;
    if (burst < 1) fail(['rate_limit', 'burst'], 'with an interval set, burst must be at least 1 (0 would refuse every request)');
    rateLimit = { intervalMs: c.rate_limit.interval, burst };
  }

  const tls = c.tls_server_config ? await buildTls(file, dirname(resolve(file)), c.tls_server_config) : undefined;
  return { file, tls, users, headers, rateLimit, http2: c.http_server_config?.http2 ?? true };
}
