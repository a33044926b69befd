import { createHmac, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { secretSchema } from './secret.js';
import type { HttpsEndpoint } from '../transport/https/types.js';

/** SHA-256 of a certificate as `openssl x509 -noout -fingerprint -sha256` prints it (colons optional). */
const CERT_FINGERPRINT = /^(?:[0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$|^[0-9A-Fa-f]{64}$/;

/** How the server's certificate is checked, in the words of Prometheus' tls_config. */
const tlsConfigSchema = z.strictObject({
  /** CA bundle (PEM) to verify the server against instead of the system's CAs. */
  ca_file: z.string().min(1).optional(),
  /** The name the certificate must carry when it is not the target's host. */
  server_name: z.string().min(1).max(253).optional(),
  /** Pinned SHA-256 fingerprints of the server's own certificate; replaces the CA and name checks. */
  cert_fingerprints_sha256: z
    .array(z.string().regex(CERT_FINGERPRINT, 'expected the SHA-256 fingerprint as openssl prints it (AB:CD:…, 32 bytes)'))
    .min(1)
    .optional(),
  insecure_skip_verify: z.boolean().default(false),
});

/**
 * Credentials and TLS for an HTTPS API: an API key, or a username and password from which the
 * prober obtains a key. Every secret is a secret reference (inline, `{file:}`, `{env:}`).
 */
export const httpsOptionsSchema = z
  .strictObject({
    api_key: secretSchema.optional(),
    username: z.string().min(1).max(64).optional(),
    password: secretSchema.optional(),
    tls_config: tlsConfigSchema.default({ insecure_skip_verify: false }),
  })
  .superRefine((o, ctx) => {
    const login = o.username !== undefined || o.password !== undefined;
    if (o.api_key && login) ctx.addIssue({ code: 'custom', message: 'give api_key, or username and password, not both' });
    else if (!o.api_key && !(o.username && o.password)) ctx.addIssue({ code: 'custom', message: 'give api_key, or username and password' });
    const t = o.tls_config;
    if (t.insecure_skip_verify && (t.ca_file || t.cert_fingerprints_sha256)) {
      ctx.addIssue({ code: 'custom', path: ['tls_config'], message: 'insecure_skip_verify with ca_file or cert_fingerprints_sha256: choose one' });
    }
  });

export type HttpsOptions = z.output<typeof httpsOptionsSchema>;

/** Revealed credentials, for the prober alone. */
export interface HttpsCredentials {
  apiKey?: string;
  username?: string;
  password?: string;
}

/** Per process: identities of the same credentials match within a run and mean nothing outside it. */
const IDENTITY_KEY = randomBytes(32);

/** The endpoint and credentials for a probe: secrets revealed only here, on their way to the prober. */
export function httpsEndpoint(target: { host: string; port: number }, o: HttpsOptions): { endpoint: HttpsEndpoint; credentials: HttpsCredentials } {
  const credentials: HttpsCredentials = o.api_key ? { apiKey: o.api_key.reveal() } : { username: o.username, password: o.password?.reveal() };
  const identity = createHmac('sha256', IDENTITY_KEY)
    .update(JSON.stringify([credentials.apiKey ?? '', credentials.username ?? '', credentials.password ?? '']))
    .digest('hex')
    .slice(0, 32);
  const t = o.tls_config;
  return {
    endpoint: {
      host: target.host,
      port: target.port,
      identity,
      tls: {
        caFile: t.ca_file,
        fingerprints: t.cert_fingerprints_sha256,
        serverName: t.server_name,
        insecureSkipVerify: t.insecure_skip_verify,
      },
    },
    credentials,
  };
}

/** Without certificate checks, credentials could be sent to anyone's server: such a module must list its targets. */
function httpsRequiresAllowList(options: { https: HttpsOptions }): string | undefined {
  return options.https.tls_config.insecure_skip_verify ? 'the module skips TLS certificate verification' : undefined;
}

/** What every prober of an HTTPS API declares alike: port 443, `https:` credentials (auths fit), the allow-list rule. */
export const HTTPS_PROBER = { defaultPort: 443, credentials: 'https', requiresAllowList: httpsRequiresAllowList } as const;
