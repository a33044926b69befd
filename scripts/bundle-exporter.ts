/**
 * The exporter as `node dist/vpn-exporter.mjs` runs it (issue #13 §6, start-up):
 * - dist/server.cjs: src/main.ts and its dependencies bundled by esbuild. Start-up was ~1 s,
 *   nearly all of it Node's ESM loader resolving and linking ~570 modules (zod, yaml,
 *   prom-client's @opentelemetry/api, ours); one file cut the load CPU to under half.
 *   CommonJS, because only a script can be compiled with V8's code cache on Node 20.
 * - dist/vpn-exporter.mjs: the launcher, src/cli/launcher.ts, which compiles server.cjs with
 * - dist/server.code-cache: V8's code cache of server.cjs, written here by starting the
 *   exporter once, asking it what a first scrape asks, and stopping it. Compiling the bundle
 *   was most of what start-up had left.
 *
 * `node --import tsx scripts/bundle-exporter.ts [outdir]`, as `npm run build` runs it.
 * The browser script goes beside it (dist/client/ui.js, src/web/client-bundle.ts), where
 * the bundle's import.meta.url finds it; src/version.ts walks up from dist/ to package.json.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { CODE_CACHE_WRITE_ENV } from '../src/cli/code-cache.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const LAUNCHER_FROM_ROOT = 'dist/vpn-exporter.mjs';
const OUT = resolve(process.argv[2] ?? resolve(ROOT, dirname(LAUNCHER_FROM_ROOT)));
const LAUNCHER = join(OUT, 'vpn-exporter.mjs');

const common = {
  absWorkingDir: ROOT,
  tsconfig: 'tsconfig.json',
  bundle: true,
  platform: 'node',
  target: 'node20',
  legalComments: 'none',
  logLevel: 'warning',
} as const;

await build({
  ...common,
  entryPoints: ['src/main.ts'],
  outfile: join(OUT, 'server.cjs'),
  format: 'cjs',
  // Drops comments, the only place non-ASCII text was left (esbuild escapes it elsewhere): Node 20
  // reads a pure-ASCII file as a string in under a millisecond, one with a single "—" in ~100 ms.
  minifyWhitespace: true,
  // import() of an external (ssh2, loaded on first use) becomes require(): vm.Script, which the
  // launcher compiles this with, has no loader for import() on Node 20.
  supported: { 'dynamic-import': false },
  // What import.meta.url means in the modules that ask (version.ts, client-bundle.ts): this file.
  banner: { js: "var __vpnx_import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
  define: { 'import.meta.url': '__vpnx_import_meta_url' },
  external: [
    // ssh2 loads its optional addons (cpu-features, ./crypto/build/Release/sshcrypto.node) by
    // paths relative to its own files; bundled, those would silently never be found.
    'ssh2',
    // Only imported when running from source (src/web/client-bundle.ts); never in the bundle.
    'esbuild',
  ],
});

// The launcher reads the bundle as latin1, which only ASCII makes the same as UTF-8.
const nonAscii = (await readFile(join(OUT, 'server.cjs'))).findIndex((byte) => byte > 0x7f);
if (nonAscii >= 0) throw new Error(`dist/server.cjs has a non-ASCII byte at offset ${nonAscii}: esbuild's charset or minifyWhitespace changed?`);

await build({ ...common, entryPoints: ['src/cli/launcher.ts'], outfile: LAUNCHER, format: 'esm' });

await writeCodeCache();

/**
 * Starts the launcher with the cache write switched on, makes the requests of a first
 * scrape (so the functions they run are in the cache too), stops it, and checks that a
 * fresh start takes the cache: a refused one would only show as a slow start.
 */
async function writeCodeCache(): Promise<void> {
  await rm(join(OUT, 'server.code-cache'), { force: true });
  const dir = await mkdtemp(join(tmpdir(), 'vpnx-build-'));
  try {
    const config = join(dir, 'modules.yaml');
    await writeFile(config, 'modules:\n  warm_up:\n    prober: strongswan-vici-tcp\n    timeout: 5s\n');
    const child = spawn(process.execPath, [LAUNCHER, `--config.file=${config}`, '--web.listen-address=127.0.0.1:0'], {
      env: { ...process.env, [CODE_CACHE_WRITE_ENV]: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    const kill = setTimeout(() => child.kill('SIGKILL'), 60_000);
    try {
      let output = '';
      const port = await new Promise<string>((found, failed) => {
        const look = (chunk: Buffer) => {
          output += chunk.toString();
          const m = /msg=listening|"msg":"listening"/.test(output) && /address=127\.0\.0\.1:(\d+)|"address":"127\.0\.0\.1:(\d+)"/.exec(output);
          if (m) found((m[1] ?? m[2]) as string);
        };
        child.stdout.on('data', look);
        child.stderr.on('data', look);
        exited.then((code) => failed(new Error(`the exporter exited (${code}) before listening:\n${output}`)));
      });
      // The refused loopback port answers at once: the probe path runs to its failure metrics.
      for (const path of ['/-/healthy', '/metrics', '/', '/probe?module=warm_up&target=127.0.0.1:1', '/history', '/fleet']) {
        const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(30_000) });
        await res.arrayBuffer();
        if (res.status >= 500) throw new Error(`warming the code cache: ${path}: HTTP ${res.status}`);
      }
      child.kill('SIGTERM');
      const code = await exited;
      if (code !== 0) throw new Error(`the exporter exited with ${code} while writing its code cache:\n${output}`);
    } finally {
      clearTimeout(kill);
      child.kill('SIGKILL');
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const size = (await stat(join(OUT, 'server.code-cache'))).size;
  const version = await new Promise<string>((done, failed) => {
    const check = spawn(process.execPath, [LAUNCHER, '--version'], { stdio: ['ignore', 'pipe', 'inherit'], timeout: 60_000 });
    let out = '';
    check.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    check.once('error', failed);
    check.once('exit', () => done(out));
  });
  if (!version.includes('code cache used')) throw new Error(`the code cache just written (${size} bytes) is not taken: ${version}`);
}
