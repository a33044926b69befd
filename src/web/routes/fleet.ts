import { Hono, type Context } from 'hono';
import type { FleetEntry } from '../../probe/fleet.js';
import type { AppDeps } from '../deps.js';
import { renderFleetPage, type FleetQuery } from '../pages/fleet-page.js';
import { PAGE_SECURITY_HEADERS } from '../pages/layout.js';

const API_HEADERS = { 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' };
const MAX_QUERY = 300;
const DEFAULT_LIMIT = 500;

/** The columns /api/fleet sorts by, as ?sort= names them (and the page's headers do). */
export const FLEET_SORTS = ['target', 'module', 'auth', 'result', 'up', 'down', 'users', 'expiry', 'time', 'duration', 'source'] as const;
type SortKey = (typeof FLEET_SORTS)[number];

/** A query the page or a script can write; anything else is a 400 saying which parameter. */
interface ParsedQuery {
  module?: string;
  target?: string;
  failing: boolean;
  sort: SortKey;
  order: 'asc' | 'desc';
  limit: number;
}

class BadQuery extends Error {}

function parseQuery(c: Context, maxEntries: number): ParsedQuery {
  const get = (name: string): string | undefined => {
    const all = c.req.queries(name);
    if (all && all.length > 1) throw new BadQuery(`${name} is given more than once`);
    const v = all?.[0];
    if (v !== undefined && v.length > MAX_QUERY) throw new BadQuery(`${name} is longer than ${MAX_QUERY} characters`);
    return v === '' ? undefined : v;
  };
  const failing = get('failing');
  if (failing !== undefined && !['true', 'false', '1', '0'].includes(failing)) throw new BadQuery('failing must be true or false');
  const sort = get('sort') ?? 'result';
  if (!(FLEET_SORTS as readonly string[]).includes(sort)) throw new BadQuery(`sort must be one of ${FLEET_SORTS.join(', ')}`);
  const order = get('order') ?? 'asc';
  if (order !== 'asc' && order !== 'desc') throw new BadQuery('order must be asc or desc');
  const limitText = get('limit');
  const limit = limitText === undefined ? Math.min(DEFAULT_LIMIT, maxEntries) : Number(limitText);
  if (!/^\d{1,9}$/.test(limitText ?? '1') || !Number.isInteger(limit) || limit < 1 || limit > maxEntries) {
    throw new BadQuery(`limit must be a whole number from 1 to ${maxEntries}`);
  }
  return { module: get('module'), target: get('target'), failing: failing === 'true' || failing === '1', sort: sort as SortKey, order, limit };
}

/** The nearest of the certificate expiry and the CRL's next update: what needs attention first. */
function nearestExpiry(e: FleetEntry): number | undefined {
  if (e.certificateExpiry === undefined) return e.crlNextUpdate;
  if (e.crlNextUpdate === undefined) return e.certificateExpiry;
  return Math.min(e.certificateExpiry, e.crlNextUpdate);
}

/** Each column's value; undefined sorts last in either order (a failed probe has no tunnel count). */
const SORT_VALUE: Record<SortKey, (e: FleetEntry) => string | number | undefined> = {
  target: (e) => e.target.toLowerCase(),
  module: (e) => e.module,
  auth: (e) => e.auth,
  // Ascending puts failures first, grouped by reason: what someone opens the page for.
  result: (e) => (e.success ? '1' : `0${e.failureReason ?? ''}`),
  up: (e) => e.tunnels?.up,
  down: (e) => e.tunnels?.down,
  users: (e) => e.users,
  expiry: nearestExpiry,
  time: (e) => e.probedAt,
  duration: (e) => e.durationSeconds,
  source: (e) => e.source,
};

function compare(a: string | number | undefined, b: string | number | undefined): number {
  if (a === b) return 0;
  if (a === undefined) return 1;
  if (b === undefined) return -1;
  return a < b ? -1 : 1;
}

function sorted(entries: FleetEntry[], key: SortKey, order: 'asc' | 'desc'): FleetEntry[] {
  const value = SORT_VALUE[key];
  const sign = order === 'asc' ? 1 : -1;
  const tie = (a: FleetEntry, b: FleetEntry) =>
    compare(a.target.toLowerCase(), b.target.toLowerCase()) || compare(a.module, b.module) || compare(a.auth ?? '', b.auth ?? '');
  return entries.sort((a, b) => {
    const va = value(a);
    const vb = value(b);
    // Missing values stay last whichever way the column is sorted.
    if (va === undefined || vb === undefined) return compare(va, vb) || tie(a, b);
    return sign * compare(va, vb) || tie(a, b);
  });
}

/**
 * The fleet page and its data: the last probe of every (module, target, auth) in the last
 * hour (probe/fleet.ts), filtered, sorted and cut on the server, so the page's refresh every
 * 15 s carries one screenful, not ten thousand entries.
 */
export function fleetRoutes(deps: AppDeps): Hono {
  const app = new Hono();

  app.get('/fleet', (c) => {
    const shown = (name: string) => (c.req.query(name) ?? '').slice(0, MAX_QUERY);
    const query: FleetQuery = { module: shown('module'), target: shown('target'), failing: ['true', '1'].includes(shown('failing')) };
    return c.html(renderFleetPage(deps.config.current, deps.fleet.maxEntries, query, deps.version), 200, PAGE_SECURITY_HEADERS);
  });

  app.get('/api/fleet', (c) => {
    let q: ParsedQuery;
    try {
      q = parseQuery(c, deps.fleet.maxEntries);
    } catch (err) {
      if (err instanceof BadQuery) return c.json({ error: err.message }, 400, API_HEADERS);
      throw err;
    }
    const { entries, dropped, droppedIsLowerBound } = deps.fleet.snapshot();
    const needle = q.target?.toLowerCase();
    const matched = entries.filter(
      (e) =>
        (q.module === undefined || e.module === q.module) && (!q.failing || !e.success) && (needle === undefined || e.target.toLowerCase().includes(needle)),
    );
    const kept = new Set(deps.history.list().map((r) => r.id));
    const page = sorted(matched, q.sort, q.order).slice(0, q.limit);
    return c.json(
      {
        time: new Date().toISOString(),
        maxEntries: deps.fleet.maxEntries,
        maxAgeSeconds: deps.fleet.maxAgeMs / 1000,
        total: entries.length,
        failing: entries.reduce((n, e) => n + (e.success ? 0 : 1), 0),
        matched: matched.length,
        dropped,
        droppedIsLowerBound,
        modules: [...new Set(entries.map((e) => e.module))].sort(),
        sort: q.sort,
        order: q.order,
        entries: page.map((e) => ({
          module: e.module,
          prober: e.prober,
          target: e.target,
          auth: e.auth ?? null,
          time: new Date(e.probedAt).toISOString(),
          success: e.success,
          failureReason: e.failureReason ?? null,
          reason: e.failure ?? null,
          source: e.source,
          durationSeconds: e.durationSeconds,
          tunnels: e.tunnels ?? null,
          users: e.users ?? null,
          certificateExpiryTimestamp: e.certificateExpiry ?? null,
          crlNextUpdateTimestamp: e.crlNextUpdate ?? null,
          logId: e.logId,
          // /logs keeps the last --history.limit probes: a link to one it dropped would be a 404.
          logKept: kept.has(e.logId),
        })),
      },
      200,
      API_HEADERS,
    );
  });

  return app;
}
