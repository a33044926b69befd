import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { z } from 'zod';

/**
 * A resolved secret. It prints as "<secret>" everywhere (String(), JSON, util.inspect,
 * the log), so a secret that slips into a log line or an error shows nothing.
 */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return '<secret>';
  }
  toJSON(): string {
    return '<secret>';
  }
  [inspect.custom](): string {
    return '<secret>';
  }
}

const MAX_SECRET_FILE_BYTES = 1 << 20;

/** Key names whose inline values are redacted wherever configuration is shown. */
export const SECRET_KEYS: ReadonlySet<string> = new Set(['password', 'private_key', 'passphrase', 'api_key', 'user_hash_key']);

/**
 * A secret may be written inline, or as `{file: path}` / `{env: NAME}` so that
 * modules.yaml can be shared and committed without the secret itself.
 */
export const secretSchema = z
  .union([
    z.string().min(1),
    z.strictObject({ file: z.string().min(1) }),
    z.strictObject({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'not an environment variable name') }),
  ])
  .transform((ref, ctx) => {
    if (typeof ref === 'string') return new Secret(ref);
    if ('env' in ref) {
      const value = process.env[ref.env];
      if (value === undefined || value === '') {
        ctx.addIssue({ code: 'custom', message: `environment variable ${ref.env} is not set` });
        return z.NEVER;
      }
      return new Secret(value);
    }
    try {
      const buf = readFileSync(ref.file);
      if (buf.length > MAX_SECRET_FILE_BYTES) throw new Error(`larger than ${MAX_SECRET_FILE_BYTES} bytes`);
      // Password files usually end in a newline that is not part of the password.
      return new Secret(buf.toString('utf8').replace(/\r?\n$/, ''));
    } catch (err) {
      const reason = err instanceof Error ? err.message.replace(/^[A-Z]+: /, '') : String(err);
      ctx.addIssue({ code: 'custom', message: `cannot read secret file ${ref.file}: ${reason}` });
      return z.NEVER;
    }
  });

/** A copy of raw configuration with every inline secret replaced; references stay visible. */
export function redactSecrets(value: unknown, key?: string): unknown {
  if (key !== undefined && SECRET_KEYS.has(key) && typeof value === 'string') return '<secret>';
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactSecrets(v, k);
    return out;
  }
  return value;
}
