// deploy/grafana: the dashboard loads, has the fleet/tunnels/users/traffic/rekey
// sections and the job/gateway/module variables, every query names only metrics the
// exporter exposes (the list is read from src/exposition, so it cannot drift), filters
// by the variables, and parses as PromQL (promtool).
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { PROMETHEUS_SCRAPE_SERIES, REPO_ROOT, exportedMetricNames, metricNamesInExpr, promtool } from '../../support/prometheus.js';

const DIR = join(REPO_ROOT, 'deploy/grafana');

/* eslint-disable @typescript-eslint/no-explicit-any */
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { type: string; uid: string };
  targets?: { refId: string; expr: string; datasource?: { uid: string } }[];
  panels?: Panel[];
}

const dashboards = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .map((f) => ({ file: f, json: JSON.parse(readFileSync(join(DIR, f), 'utf8')) as any }));
const dash = dashboards[0]!.json;
const panels: Panel[] = (dash.panels as Panel[]).flatMap((p) => [p, ...(p.panels ?? [])]);
const queries = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
const variables = dash.templating.list as { name: string; type: string; query: any; definition?: string }[];

/** A query as Prometheus would receive it from Grafana with "All" selected. */
function interpolate(expr: string): string {
  return expr.replace(/\$__rate_interval|\$__interval|\$\{__rate_interval\}/g, '1m').replace(/\$\{?(\w+)\}?/g, '.*');
}

test('the dashboard JSON loads and has a title, a uid and a schema version', () => {
  assert.equal(dashboards.length, 1);
  assert.ok(dash.title && dash.uid && dash.schemaVersion >= 30);
  assert.match(dash.uid, /^[A-Za-z0-9_-]{1,40}$/);
});

test('template variables for data source, job, gateway (instance) and module', () => {
  const names = variables.map((v) => v.name);
  assert.deepEqual(names, ['datasource', 'job', 'instance', 'module']);
  assert.equal(variables[0]!.type, 'datasource');
  for (const v of variables.slice(1)) {
    assert.equal(v.type, 'query');
    const q = typeof v.query === 'string' ? v.query : v.query.query;
    const m = /^label_values\((.*),\s*(\w+)\)$/.exec(q);
    assert.ok(m, `${v.name}: label_values(...)`);
    assert.equal(m[2], v.name);
    for (const n of metricNamesInExpr(m[1]!)) assert.ok(exportedMetricNames().has(n), `${v.name} queries ${n}`);
  }
});

test('panels have unique ids, fit the 24-column grid, and use the data source variable', () => {
  const ids = new Set<number>();
  for (const p of panels) {
    assert.ok(!ids.has(p.id), `duplicate panel id ${p.id}`);
    ids.add(p.id);
    assert.ok(p.gridPos.x >= 0 && p.gridPos.w > 0 && p.gridPos.x + p.gridPos.w <= 24, `${p.title} fits`);
    if (p.type === 'row') continue;
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, meant literally.
    assert.equal(p.datasource?.uid, '${datasource}', `${p.title}: data source`);
    assert.ok((p.targets ?? []).length > 0, `${p.title} has queries`);
  }
});

test('sections for the fleet, tunnels, users, traffic and rekey timers', () => {
  const rows = panels.filter((p) => p.type === 'row').map((p) => p.title);
  for (const want of [/fleet/i, /tunnel/i, /user/i, /traffic/i, /rekey/i])
    assert.ok(
      rows.some((r) => want.test(r)),
      `a row matching ${want}`,
    );
  const all = queries.map((q) => q.expr).join('\n');
  for (const metric of [
    'probe_success',
    'vpn_tunnel_up',
    'vpn_user_sessions',
    'vpn_tunnel_receive_bytes_total',
    'vpn_user_receive_bytes_total',
    'strongswan_child_sa_rekey_seconds',
  ]) {
    assert.ok(all.includes(metric), `a panel shows ${metric}`);
  }
});

test('every query names only metrics the exporter exposes', () => {
  const exported = exportedMetricNames();
  assert.ok(exported.size > 40, 'the reference was read from the source');
  for (const q of queries) {
    const names = metricNamesInExpr(q.expr);
    assert.ok(names.size > 0, `${q.panel}: ${q.expr}`);
    for (const n of names) assert.ok(exported.has(n) || PROMETHEUS_SCRAPE_SERIES.has(n), `${q.panel}: ${n} is not exposed`);
  }
});

test('every gateway query filters by the job, gateway and module variables', () => {
  for (const q of queries) {
    for (const m of q.expr.matchAll(/\b([a-z_:][a-z0-9_:]*)\{([^}]*)\}/g)) {
      const [, metric, matchers] = m;
      if (metric!.startsWith('vpn_exporter_')) {
        assert.match(matchers!, /module=~"\$module"/, `${q.panel}: ${metric}`);
        continue;
      }
      for (const v of ['job', 'instance', 'module']) assert.match(matchers!, new RegExp(`${v}=~"\\$${v}"`), `${q.panel}: ${metric} by $${v}`);
    }
    const bare = [...metricNamesInExpr(q.expr)].filter((n) => !n.startsWith('vpn_exporter_'));
    for (const n of bare) assert.match(q.expr, new RegExp(`${n}\\{`), `${q.panel}: ${n} without a selector`);
  }
});

test('every query parses as PromQL (promtool check rules)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vpnx-grafana-'));
  try {
    const rules = queries.map((q, i) => ({ record: `dashboard:query_${i}`, expr: interpolate(q.expr) }));
    writeFileSync(join(dir, 'dashboard.yml'), stringify({ groups: [{ name: 'dashboard', rules }] }));
    const r = await promtool(['check', 'rules', 'dashboard.yml'], dir);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`SUCCESS: ${rules.length} rules found`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
