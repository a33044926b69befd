import { z } from 'zod';
import { redactSecrets } from './secret.js';
import { httpsOptionsSchema } from './https-block.js';
import { sshOptionsSchema } from './ssh-block.js';

/**
 * Kinds of credentials and the module option each fills. A prober names the kind it takes
 * (ProberSchema.credentials); an auth of another kind does not fit it.
 */
const KIND_SCHEMAS = { ssh: sshOptionsSchema, https: httpsOptionsSchema } as const;

export type CredentialKind = keyof typeof KIND_SCHEMAS;

/** A named credential set (`auths:`), chosen per request with `?auth=` as in snmp_exporter. */
export interface Auth {
  name: string;
  kind: CredentialKind;
  /** Validated, secrets resolved: what replaces the module's option of the same name. */
  credentials: unknown;
  /** As written, inline secrets redacted: safe to show. */
  display: Record<string, unknown>;
  /** The credentials as written, for validating a module that names this auth as its default. */
  raw: unknown;
}

const AUTH_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;

/** One auth: exactly one kind of credentials. Issues carry their path below `auths.<name>`. */
export function parseAuth(name: string, raw: unknown): Auth | z.ZodError {
  const shape = z
    .strictObject({ ssh: z.unknown().optional(), https: z.unknown().optional() })
    .refine((a) => Object.keys(a).length === 1, 'an auth holds one kind of credentials: ssh or https');
  const top = shape.safeParse(raw ?? {});
  if (!top.success) return top.error;
  if (!AUTH_NAME.test(name)) {
    return new z.ZodError([{ code: 'custom', path: [], message: 'auth names are letters, digits, "_", "." and "-" (at most 64)', input: name }]);
  }
  const kind = Object.keys(top.data)[0] as CredentialKind;
  const parsed = KIND_SCHEMAS[kind].safeParse(top.data[kind]);
  if (!parsed.success) return new z.ZodError(parsed.error.issues.map((i) => ({ ...i, path: [kind, ...i.path] })));
  return { name, kind, credentials: parsed.data, display: redactSecrets(raw) as Record<string, unknown>, raw: top.data[kind] };
}
