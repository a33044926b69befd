/**
 * The exporter as one file, dist/vpn-exporter.mjs: src/main.ts and its dependencies
 * bundled by esbuild. Start-up was ~1 s, nearly all of it Node's ESM loader resolving
 * and linking ~570 modules (zod, yaml, prom-client's @opentelemetry/api, ours); one
 * file cuts the load CPU to under half (issue #13 §6).
 *
 * `node --import tsx scripts/bundle-exporter.ts [outfile]`, as `npm run build` runs it.
 * The browser script goes beside it (dist/client/ui.js, src/web/client-bundle.ts), where
 * the bundle's import.meta.url finds it; src/version.ts walks up from dist/ to package.json.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const BUNDLE_FROM_ROOT = 'dist/vpn-exporter.mjs';

await build({
  absWorkingDir: ROOT,
  entryPoints: ['src/main.ts'],
  outfile: resolve(process.argv[2] ?? resolve(ROOT, BUNDLE_FROM_ROOT)),
  tsconfig: 'tsconfig.json',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // CommonJS dependencies (pino, prom-client, ...) call require(); an ES module has none.
  banner: { js: "import { createRequire as __vpnxCreateRequire } from 'node:module';\nconst require = __vpnxCreateRequire(import.meta.url);" },
  external: [
    // ssh2 loads its optional addons (cpu-features, ./crypto/build/Release/sshcrypto.node) by
    // paths relative to its own files; bundled, those would silently never be found.
    'ssh2',
    // Only imported when running from source (src/web/client-bundle.ts); never in the bundle.
    'esbuild',
  ],
  legalComments: 'none',
  logLevel: 'warning',
});
