import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { z } from 'zod';
import { ConfigError } from '../../../src/config/config.js';
import { issuesError, readYamlFile } from '../../../src/config/config-file.js';
import { singleFlightReload } from '../../../src/config/single-flight.js';

const dir = mkdtempSync(join(tmpdir(), 'vpnx-config-file-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

async function refusal(promise: Promise<unknown>): Promise<ConfigError> {
  const err = await promise.then(
    () => assert.fail('expected a ConfigError'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
  return err;
}

test('a YAML file is read up to its bound; past it, missing or malformed, the error names the file', async () => {
  assert.deepEqual(await readYamlFile(file('ok.yml', 'a:\n  b: [1, 2]\n'), 64), { a: { b: [1, 2] } });
  // Exactly at the bound is still fine (the rest of the line is a comment).
  assert.deepEqual(await readYamlFile(file('exact.yml', 'a: 1\n'.padEnd(64, '#')), 64), { a: 1 });

  const big = file('big.yml', `a: "${'x'.repeat(100)}"\n`);
  assert.equal((await refusal(readYamlFile(big, 64))).message, `${big}: cannot read: larger than 64 bytes`);

  const missing = join(dir, 'absent.yml');
  assert.match((await refusal(readYamlFile(missing, 64))).message, new RegExp(`^${missing}: cannot read: ENOENT`));

  const dup = file('dup.yml', 'a: 1\na: 2\n');
  assert.match((await refusal(readYamlFile(dup, 64))).message, new RegExp(`^${dup}: Map keys must be unique`));
});

test('zod issues become one line each: file, key path with [index], reason', () => {
  const schema = z.strictObject({ list: z.array(z.strictObject({ n: z.number() })) });
  const parsed = schema.safeParse({ list: [{ n: 1 }, { n: 'two' }], extra: true });
  assert.ok(!parsed.success);
  const lines = issuesError('f.yml', parsed.error, ['modules', 'm']).message.split('\n');
  assert.deepEqual(lines.sort(), [
    'f.yml: modules.m.list[1].n: Invalid input: expected number, received string',
    'f.yml: modules.m: Unrecognized key: "extra"',
  ]);
  const top = z.number().safeParse('x');
  assert.ok(!top.success);
  assert.match(issuesError('f.yml', top.error).message, /^f\.yml: \(top level\): /);
});

test('reloads asked for while one runs share it; the next one runs anew', async () => {
  let runs = 0;
  let release!: () => void;
  const reload = singleFlightReload(async () => {
    runs++;
    await new Promise<void>((r) => (release = r));
  });
  const a = reload();
  const b = reload();
  assert.equal(a, b);
  await Promise.resolve();
  release();
  await Promise.all([a, b]);
  assert.equal(runs, 1);

  const c = reload();
  assert.notEqual(c, a);
  release();
  await c;
  assert.equal(runs, 2);
});

test('a refused reload rejects every caller with a ConfigError carrying the reason', async () => {
  let fail: Error = new ConfigError('m.yaml: modules.x: bad');
  const reload = singleFlightReload(async () => {
    await Promise.resolve();
    throw fail;
  });
  const [a, b] = await Promise.allSettled([reload(), reload()]);
  for (const r of [a, b]) {
    assert.equal(r.status, 'rejected');
    assert.equal((r.reason as Error).message, 'm.yaml: modules.x: bad');
  }
  // Whatever else goes wrong reaches the caller in the same form.
  fail = new TypeError('setSecureContext failed');
  const err = await refusal(reload());
  assert.equal(err.message, 'setSecureContext failed');
});
