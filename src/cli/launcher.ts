/**
 * dist/vpn-exporter.mjs: what `node dist/vpn-exporter.mjs` runs. It loads the server bundle,
 * dist/server.cjs (src/main.ts and its dependencies, scripts/bundle-exporter.ts), through
 * V8's code cache, dist/server.code-cache, which `npm run build` writes by starting the
 * bundle once and asking it a few questions.
 *
 * Why: compiling the 2.5 MB bundle was the largest part of start-up left (issue #13 §6):
 * V8 parses all of it, then compiles each function again the first time it runs. With the
 * cache, V8 takes both from the file, after checking it was made from this very source by
 * this very V8 under these very flags. Node 22's module.enableCompileCache() does the same,
 * but the exporter runs on Node 20, where only vm.Script takes cached data, and only for a
 * script: hence a CommonJS bundle.
 *
 * A missing or refused cache (node upgraded since the build) is not an error: the bundle
 * compiles as it would without one, start-up is slower, and `--version` says so.
 */
// V8 refuses a cache made under other flags: set the heap flags before compiling, as they
// were set when `npm run build` made the cache (the bundle sets them again: no change).
import './heap.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';
import { CODE_CACHE_STATE, CODE_CACHE_WRITE_ENV } from './code-cache.js';

const DIST = dirname(fileURLToPath(import.meta.url));
const BUNDLE = join(DIST, 'server.cjs');
const CACHE = join(DIST, 'server.code-cache');

/** In a function, so the file's text and the cache are garbage once compiled (~3 MB). */
function compile(): Script {
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(CACHE);
  } catch {
    // No cache (a build without one, or a read-only copy without the file): compile from source.
  }
  // esbuild keeps main.ts's "#!" line; inside a function it would be a syntax error.
  // "//" keeps the line, so line numbers in stack traces stay those of the file.
  // Read as latin1: the build checks the bundle is pure ASCII, where latin1 and UTF-8 agree, and
  // Node 20 decodes 1.8 MB of latin1 in under a millisecond against ~20 ms as UTF-8.
  const text = readFileSync(BUNDLE, 'latin1').replace(/^#!/, '//');
  // The wrapper CommonJS gives every module: the bundle reads require and __filename.
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${text}\n})`, { filename: BUNDLE, cachedData });
  (globalThis as Record<symbol, unknown>)[CODE_CACHE_STATE] = cachedData === undefined ? 'missing' : script.cachedDataRejected ? 'refused' : 'used';
  return script;
}

const script = compile();
if (process.env[CODE_CACHE_WRITE_ENV] === '1') {
  // At exit, the cache holds every function compiled so far: start-up and the requests the build made.
  process.once('exit', () => writeFileSync(CACHE, script.createCachedData()));
}
const module = { exports: {} };
(script.runInThisContext() as (...args: unknown[]) => void)(module.exports, createRequire(BUNDLE), module, BUNDLE, DIST);
