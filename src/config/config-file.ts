/**
 * What the modules file and the web configuration file have in common: how they are read
 * and parsed, and how an error says where it is ("file: a.b[0].c: reason"), so that both
 * files answer a mistake in the same words.
 */
import { open } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from './config.js';

/**
 * The text of a file of at most maxBytes. Reads no more than maxBytes + 1, so a huge file
 * (or /dev/zero given by mistake) is refused without being read into memory. Throws the
 * plain fs error (or "larger than …"): the caller says which file and key it was.
 */
export async function readBounded(path: string, maxBytes: number): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(maxBytes + 1);
    let length = 0;
    while (length < buf.length) {
      const { bytesRead } = await handle.read(buf, length, buf.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > maxBytes) throw new Error(`larger than ${maxBytes} bytes`);
    return buf.toString('utf8', 0, length);
  } finally {
    await handle.close();
  }
}

/**
 * YAML text to plain data. Duplicate keys are refused (the second one would silently win),
 * and aliases are capped so a "billion laughs" file cannot expand without bound.
 */
export function parseYaml(file: string, text: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(doc.errors.map((e) => `${file}: ${e.message.split('\n')[0]}`).join('\n'));
  }
  return doc.toJS({ maxAliasCount: 100 });
}

/** Reads and parses a YAML configuration file; throws ConfigError naming the file. */
export async function readYamlFile(file: string, maxBytes: number): Promise<unknown> {
  let text: string;
  try {
    text = await readBounded(file, maxBytes);
  } catch (err) {
    throw new ConfigError(`${file}: cannot read: ${err instanceof Error ? err.message : String(err)}`);
  }
  return parseYaml(file, text);
}

/** ["modules", "a", "allowed_targets", 0] as people write it: modules.a.allowed_targets[0]. */
function keyPath(path: readonly PropertyKey[]): string {
  return path
    .map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))
    .join('.')
    .replace(/\.\[/g, '[');
}

/** "file: key.path: reason", or "(top level)" where there is no key to name. */
export function configError(file: string, path: readonly PropertyKey[], reason: string): ConfigError {
  return new ConfigError(`${file}: ${keyPath(path) || '(top level)'}: ${reason}`);
}

/** Every issue zod found, one line each, under `prefix` (the key the validated value sits at). */
export function issuesError(file: string, error: z.ZodError, prefix: readonly PropertyKey[] = []): ConfigError {
  return new ConfigError(error.issues.map((i) => configError(file, [...prefix, ...i.path], i.message).message).join('\n'));
}
