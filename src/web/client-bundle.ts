/**
 * The browser script, /assets/ui.js: src/web/client/ui.ts and what it imports
 * (the formatting shared with the server-rendered pages included), bundled by
 * esbuild into one classic script, since the page policy allows no inline or
 * module-less script from elsewhere.
 *
 * Two ways to run, one set of bundle options:
 * - Built (dist, the image): `npm run build` runs this file under tsx to write
 *   dist/client/ui.js beside the server bundle dist/server.cjs
 *   (scripts/bundle-exporter.ts), and the server reads that file. esbuild is a dev
 *   dependency and is never loaded.
 * - From source under tsx (every test, `node --import tsx src/main.ts`): the server
 *   bundles on the first request, once per process, so it always serves the
 *   current source and never a stale build.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(import.meta.url);
const FROM_SOURCE = HERE.endsWith('.ts');
/** The repository root, when running from source (src/web/client-bundle.ts). */
const ROOT = resolve(dirname(HERE), '../..');
/** Where `npm run build` writes the bundle: client/ui.js beside the server bundle, dist/server.cjs. */
const BUILT_FROM_ROOT = 'dist/client/ui.js';

/** Bundles src/web/client/ui.ts; only from source, where the dev dependencies are installed. */
export async function bundleClient(): Promise<string> {
  if (!FROM_SOURCE) throw new Error('bundling needs the sources and esbuild: run npm run build');
  const esbuild = await import('esbuild');
  const out = await esbuild.build({
    // Paths in the bundle's comments are relative to this, so build and on-demand output are the same bytes.
    absWorkingDir: ROOT,
    entryPoints: ['src/web/client/ui.ts'],
    tsconfig: 'tsconfig.client.json',
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    write: false,
    logLevel: 'silent',
  });
  const file = out.outputFiles[0];
  if (!file) throw new Error('esbuild produced no output');
  return file.text;
}

let cached: Promise<string> | undefined;

/** The script to serve: the built file when compiled, else the bundle of the sources. Loaded once. */
export function clientScript(): Promise<string> {
  cached ??= (FROM_SOURCE ? bundleClient() : readFile(new URL('./client/ui.js', import.meta.url), 'utf8')).catch((err: unknown) => {
    // A failure is not cached: the next request tries again (and the error goes to the log each time).
    cached = undefined;
    throw err;
  });
  return cached;
}

// `node --import tsx src/web/client-bundle.ts [outfile]`, as `npm run build` runs it.
// FROM_SOURCE: in the server bundle this module's URL is the bundle's, the very file node runs.
if (FROM_SOURCE && process.argv[1] !== undefined && resolve(process.argv[1]) === HERE) {
  // Not a top-level await: the server bundle, which includes this module, is CommonJS.
  const outfile = resolve(process.argv[2] ?? resolve(ROOT, BUILT_FROM_ROOT));
  mkdir(dirname(outfile), { recursive: true })
    .then(bundleClient)
    .then((text) => writeFile(outfile, text))
    .catch((err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    });
}
