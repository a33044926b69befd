/**
 * What the launcher (src/cli/launcher.ts) and the build (scripts/bundle-exporter.ts) share
 * about V8's code cache of the server bundle.
 */

/** Where the launcher leaves whether the cache was used: 'used', 'refused' or 'missing'; unset when
 * something else loaded the server (tsx from source, or `node dist/server.cjs`). */
export const CODE_CACHE_STATE = Symbol.for('vpn-exporter.code-cache');

/** Set to 1 by the build only: the launcher then writes the cache when the process exits. */
export const CODE_CACHE_WRITE_ENV = 'VPN_EXPORTER_WRITE_CODE_CACHE';

/** For --version: how the server code was loaded. */
export function codeCacheState(): string {
  const state = (globalThis as Record<symbol, unknown>)[CODE_CACHE_STATE];
  return typeof state === 'string' ? `code cache ${state}` : 'no code cache';
}
