import { z } from 'zod';
import { allowListSchema } from './allow-list.js';
import { parseAuth, type Auth } from './auths.js';
import { configError, issuesError, parseYaml, readYamlFile } from './config-file.js';
import { moduleCredentials, type Config, type ModuleConfig, type ProberSchema } from './config.js';
import { durationMs } from './duration.js';
import { DETAIL_LEVELS, USER_LABEL_MODES, type ExpositionPolicy } from '../exposition/policy.js';
import { userHasher } from '../exposition/privacy.js';
import { redactSecrets, secretSchema } from './secret.js';

const MAX_CONFIG_BYTES = 4 << 20;
const MODULE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;

/** Keys every module has, whatever its prober. */
const commonSchema = z.strictObject({
  prober: z.string(),
  timeout: durationMs.default(10_000),
  /** Answer a probe from the last result when it is younger than this (0: always fetch). */
  min_interval: durationMs.default(0).refine((ms) => ms <= 600_000, 'min_interval is at most 10m: past that the answer is no longer a probe'),
  /** The auth (from `auths:`) a request without `?auth=` uses, instead of the module's own credentials. */
  auth: z.string().optional(),
  /** How much a probe's answer holds (README, "Cardinality and privacy"). */
  detail: z.enum(DETAIL_LEVELS).default('sas'),
  user_labels: z.enum(USER_LABEL_MODES).default('plain'),
  /** The HMAC key of `user_labels: hashed`, a secret like a password. */
  user_hash_key: secretSchema
    .refine((k) => k.reveal().length >= 16, 'user_hash_key must be at least 16 characters (e.g. head -c 32 /dev/urandom | base64)')
    .optional(),
  max_users: z.number().int().min(1).max(1_000_000).optional(),
});

/** The module's exposition policy; the hash key is read once, into a hasher that never prints it. */
function expositionPolicy(c: z.output<typeof commonSchema>, ctx: z.RefinementCtx): ExpositionPolicy | undefined {
  if (c.user_labels === 'hashed' && !c.user_hash_key) {
    ctx.addIssue({ code: 'custom', path: ['user_hash_key'], message: 'user_labels: hashed needs user_hash_key (a secret: inline, {file: …} or {env: …})' });
    return undefined;
  }
  if (c.user_labels !== 'hashed' && c.user_hash_key) {
    ctx.addIssue({ code: 'custom', path: ['user_hash_key'], message: 'user_hash_key is only used with user_labels: hashed' });
    return undefined;
  }
  return {
    detail: c.detail,
    userLabels: c.user_labels,
    maxUsers: c.max_users,
    hashUser: c.user_hash_key ? userHasher(c.user_hash_key.reveal()) : undefined,
  };
}

const commonWithPolicy = commonSchema.transform((c, ctx) => ({ ...c, exposition: expositionPolicy(c, ctx) as ExpositionPolicy }));

function validateModule<P extends ProberSchema>(
  file: string,
  name: string,
  raw: unknown,
  probers: ReadonlyMap<string, P>,
  auths: ReadonlyMap<string, Auth>,
): ModuleConfig<P> {
  const path = ['modules', name];
  if (!MODULE_NAME.test(name)) {
    throw configError(file, path, 'module names are letters, digits, "_", "." and "-" (at most 64)');
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw configError(file, path, 'a module is a mapping with at least "prober"');
  }
  const {
    prober: proberName,
    timeout,
    min_interval,
    auth: authName,
    allowed_targets,
    detail,
    user_labels,
    user_hash_key,
    max_users,
    ...options
  } = raw as Record<string, unknown>;
  const prober = typeof proberName === 'string' ? probers.get(proberName) : undefined;
  if (!prober) {
    const known = [...probers.keys()].join(', ');
    throw configError(file, [...path, 'prober'], `unknown prober ${JSON.stringify(proberName)} (known: ${known})`);
  }
  const common = commonWithPolicy.safeParse({ prober: proberName, timeout, min_interval, auth: authName, detail, user_labels, user_hash_key, max_users });
  if (!common.success) throw issuesError(file, common.error, path);
  const defaultAuth = common.data.auth;
  if (defaultAuth !== undefined) {
    // The default auth's credentials stand in the module's option of their kind, validated as if written there.
    const auth = auths.get(defaultAuth);
    if (!auth) throw configError(file, [...path, 'auth'], `unknown auth ${JSON.stringify(defaultAuth)} (auths: ${[...auths.keys()].join(', ') || 'none'})`);
    if (prober.credentials !== auth.kind) {
      throw configError(
        file,
        [...path, 'auth'],
        `auth ${JSON.stringify(defaultAuth)} holds ${auth.kind} credentials; ${prober.name} takes ${prober.credentials ?? 'none'}`,
      );
    }
    if (options[auth.kind] !== undefined) throw configError(file, [...path, auth.kind], `give either ${auth.kind} or auth, not both`);
    options[auth.kind] = auth.raw;
  }
  const parsed = prober.optionsSchema.safeParse(options);
  if (!parsed.success) throw issuesError(file, parsed.error, path);
  if (defaultAuth !== undefined) {
    // The prober takes this kind, but maybe not as this module uses it (openvpn-mgmt over TCP).
    const takes = moduleCredentials(prober, parsed.data);
    const kind = auths.get(defaultAuth)?.kind;
    if (takes !== kind)
      throw configError(
        file,
        [...path, 'auth'],
        `auth ${JSON.stringify(defaultAuth)} holds ${kind} credentials; this module (${prober.name}) takes ${takes ?? 'none'}`,
      );
  }
  const defaultPort = prober.defaultPortFor?.(parsed.data) ?? prober.defaultPort;
  let allowList;
  if (allowed_targets !== undefined) {
    const list = allowListSchema(defaultPort).safeParse(allowed_targets);
    if (!list.success) throw issuesError(file, list.error, [...path, 'allowed_targets']);
    allowList = list.data;
  }
  const unsafe = prober.requiresAllowList?.(parsed.data);
  if (unsafe && !allowList) throw configError(file, path, `${unsafe}, so allowed_targets is required`);
  return {
    name,
    prober,
    timeoutMs: common.data.timeout,
    defaultPort,
    minIntervalMs: common.data.min_interval,
    exposition: common.data.exposition,
    defaultAuth,
    allowList,
    options: parsed.data,
    display: redactSecrets(raw) as Record<string, unknown>,
  };
}

/** Validates configuration text. Throws ConfigError naming the file, key path and reason. */
export function parseConfig<P extends ProberSchema>(file: string, text: string, probers: ReadonlyMap<string, P>): Config<P> {
  return fromDocument(file, parseYaml(file, text), probers);
}

export async function loadConfig<P extends ProberSchema>(file: string, probers: ReadonlyMap<string, P>): Promise<Config<P>> {
  return fromDocument(file, await readYamlFile(file, MAX_CONFIG_BYTES), probers);
}

function fromDocument<P extends ProberSchema>(file: string, root: unknown, probers: ReadonlyMap<string, P>): Config<P> {
  const top = z
    .strictObject({ modules: z.record(z.string(), z.unknown()).default({}), auths: z.record(z.string(), z.unknown()).default({}) })
    .safeParse(root ?? {});
  if (!top.success) throw issuesError(file, top.error);
  const auths = new Map<string, Auth>();
  for (const [name, raw] of Object.entries(top.data.auths)) {
    const auth = parseAuth(name, raw);
    if (auth instanceof z.ZodError) throw issuesError(file, auth, ['auths', name]);
    auths.set(name, auth);
  }
  const modules = new Map<string, ModuleConfig<P>>();
  for (const [name, raw] of Object.entries(top.data.modules)) {
    modules.set(name, validateModule(file, name, raw, probers, auths));
  }
  return { file, modules, auths };
}
