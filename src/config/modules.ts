import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { durationMs } from './duration.js';
import { redactSecrets } from './secret.js';
import { allowListSchema } from './allow-list.js';
import { ConfigError, type Config, type ModuleConfig, type ProberSchema } from './config.js';

const MAX_CONFIG_BYTES = 4 << 20;
const MODULE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;

/** Keys every module has, whatever its prober. */
const commonSchema = z.strictObject({
  prober: z.string(),
  timeout: durationMs.default(10_000),
  /** Answer a probe from the last result when it is younger than this (0: always fetch). */
  min_interval: durationMs.default(0).refine((ms) => ms <= 600_000, 'min_interval is at most 10m: past that the answer is no longer a probe'),
});

function formatPath(path: readonly PropertyKey[]): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.').replace(/\.\[/g, '[');
}

function issuesToError(file: string, prefix: PropertyKey[], error: z.ZodError): ConfigError {
  const lines = error.issues.map((i) => {
    const path = formatPath([...prefix, ...i.path]);
    return `${file}: ${path || '(top level)'}: ${i.message}`;
  });
  return new ConfigError(lines.join('\n'));
}

function validateModule<P extends ProberSchema>(
  file: string,
  name: string,
  raw: unknown,
  probers: ReadonlyMap<string, P>,
): ModuleConfig<P> {
  const path = ['modules', name];
  if (!MODULE_NAME.test(name)) {
    throw new ConfigError(`${file}: ${formatPath(path)}: module names are letters, digits, "_", "." and "-" (at most 64)`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(`${file}: ${formatPath(path)}: a module is a mapping with at least "prober"`);
  }
  const { prober: proberName, timeout, min_interval, allowed_targets, ...options } = raw as Record<string, unknown>;
  const prober = typeof proberName === 'string' ? probers.get(proberName) : undefined;
  if (!prober) {
    const known = [...probers.keys()].join(', ');
    throw new ConfigError(`${file}: ${formatPath([...path, 'prober'])}: unknown prober ${JSON.stringify(proberName)} (known: ${known})`);
  }
  const common = commonSchema.safeParse({ prober: proberName, timeout, min_interval });
  if (!common.success) throw issuesToError(file, path, common.error);
  const parsed = prober.optionsSchema.safeParse(options);
  if (!parsed.success) throw issuesToError(file, path, parsed.error);
  let allowList;
  if (allowed_targets !== undefined) {
    const list = allowListSchema(prober.defaultPort).safeParse(allowed_targets);
    if (!list.success) throw issuesToError(file, [...path, 'allowed_targets'], list.error);
    allowList = list.data;
  }
  const unsafe = prober.requiresAllowList?.(parsed.data);
  if (unsafe && !allowList) throw new ConfigError(`${file}: ${formatPath(path)}: ${unsafe}, so allowed_targets is required`);
  return {
    name,
    prober,
    timeoutMs: common.data.timeout,
    minIntervalMs: common.data.min_interval,
    allowList,
    options: parsed.data,
    display: redactSecrets(raw) as Record<string, unknown>,
  };
}

/** Validates configuration text. Throws ConfigError naming the file, key path and reason. */
export function parseConfig<P extends ProberSchema>(file: string, text: string, probers: ReadonlyMap<string, P>): Config<P> {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(doc.errors.map((e) => `${file}: ${e.message.split('\n')[0]}`).join('\n'));
  }
  const root: unknown = doc.toJS({ maxAliasCount: 100 });
  const top = z.strictObject({ modules: z.record(z.string(), z.unknown()).default({}) }).safeParse(root ?? {});
  if (!top.success) throw issuesToError(file, [], top.error);
  const modules = new Map<string, ModuleConfig<P>>();
  for (const [name, raw] of Object.entries(top.data.modules)) {
    modules.set(name, validateModule(file, name, raw, probers));
  }
  return { file, modules };
}

export async function loadConfig<P extends ProberSchema>(file: string, probers: ReadonlyMap<string, P>): Promise<Config<P>> {
  let text: string;
  try {
    const buf = await readFile(file);
    if (buf.length > MAX_CONFIG_BYTES) throw new Error(`larger than ${MAX_CONFIG_BYTES} bytes`);
    text = buf.toString('utf8');
  } catch (err) {
    throw new ConfigError(`${file}: cannot read: ${err instanceof Error ? err.message : String(err)}`);
  }
  return parseConfig(file, text, probers);
}
