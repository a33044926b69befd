// /assets/ui.js is the esbuild bundle of src/web/client, whichever way the exporter
// runs: from source it bundles on demand; compiled it serves the file the build wrote.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { transform } from 'esbuild';
import { startTestExporter, type TestExporter } from '../../support/exporter.js';
import { REPO_ROOT } from '../../support/prometheus.js';

const run = promisify(execFile);
const CLIENT_DIR = join(REPO_ROOT, 'src/web/client');

let exporter: TestExporter;
let served: string;
before(async () => {
  exporter = await startTestExporter('modules: {}\n');
  const res = await exporter.get('/assets/ui.js');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/javascript; charset=utf-8');
  assert.equal(res.headers.get('cache-control'), 'max-age=300');
  served = await res.text();
});
after(async () => {
  await exporter.close();
});

test('from source, the exporter serves what the build step writes, byte for byte', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vpnx-client-'));
  const out = join(dir, 'ui.js');
  // The command `npm run build` runs, with the output file moved out of dist/.
  await run(process.execPath, ['--import', 'tsx', 'src/web/client-bundle.ts', out], { cwd: REPO_ROOT, timeout: 60_000 });
  assert.equal(await readFile(out, 'utf8'), served);
  // Served again: the same text, from the per-process cache.
  assert.equal(await (await exporter.get('/assets/ui.js')).text(), served);
});

test('the bundle is one classic script made of the client modules and the shared formatting', async () => {
  assert.match(served, /^"use strict";\n\(\(\) => \{\n/, 'an IIFE: the page loads it without type="module"');
  assert.doesNotMatch(served, /^\s*(import|export)\s/m);
  // esbuild heads each bundled module with its path.
  const modules = [...served.matchAll(/^ {2}\/\/ (src\/\S+\.ts)$/gm)].map((m) => m[1]).sort();
  const client = (await readdir(CLIENT_DIR)).map((f) => `src/web/client/${f}`);
  assert.deepEqual(modules, [...client, 'src/web/pages/format.ts'].sort());
  assert.match(served, /api\/probe\?/);
});

test('the formatting helpers exist once, shared with the server pages, never copied into the client', async () => {
  for (const name of ['humanBytes', 'humanDuration']) {
    assert.equal(served.match(new RegExp(`function ${name}\\(`, 'g'))?.length, 1, name);
  }
  assert.equal(served.match(/"KiB"/g)?.length, 1, 'one unit table');
  for (const file of await readdir(CLIENT_DIR)) {
    const text = await readFile(join(CLIENT_DIR, file), 'utf8');
    // The constants of byte and duration formatting belong to pages/format.ts.
    assert.doesNotMatch(text, /\b(1024|86400|3600)\b|KiB/, `${file} formats by itself`);
  }
});

test('compiled, the loader reads the built file and never bundles', async () => {
  // client-bundle.ts as tsc would emit it (no type-checking needed here), beside a built bundle.
  const dir = await mkdtemp(join(tmpdir(), 'vpnx-dist-'));
  const source = await readFile(join(REPO_ROOT, 'src/web/client-bundle.ts'), 'utf8');
  const compiled = join(dir, 'client-bundle.mjs');
  await writeFile(compiled, (await transform(source, { loader: 'ts', format: 'esm' })).code);
  const load = async () =>
    ((await import(`${pathToFileURL(compiled).href}?${Math.random()}`)) as typeof import('../../../src/web/client-bundle.js')).clientScript();

  await assert.rejects(load(), /ENOENT/, 'no built file: an error, not a bundle');
  await mkdir(join(dir, 'client'));
  await writeFile(join(dir, 'client/ui.js'), '/* built */\n');
  assert.equal(await load(), '/* built */\n');
});
