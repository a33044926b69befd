// deploy/prometheus: the configuration and rules pass promtool, the rules pass
// their promtool unit tests, and every name they use is one the exporter exposes.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import {
  DEPLOY_PROMETHEUS,
  PROMETHEUS_SCRAPE_SERIES,
  REPO_ROOT,
  exportedMetricNames,
  loadDeployConfig,
  loadRuleGroups,
  metricNamesInExpr,
  promtool,
  ruleFiles,
  type FileSdGroup,
} from '../../support/prometheus.js';

const config = loadDeployConfig();
const probeJobs = config.scrape_configs.filter((j) => j.metrics_path === '/probe');
const allRules = ruleFiles().flatMap((f) => loadRuleGroups(f).flatMap((g) => g.rules.map((r) => ({ ...r, file: f }))));
const alerts = allRules.filter((r) => r.alert);
const records = allRules.filter((r) => r.record);

function relabel(job: (typeof probeJobs)[number]) {
  return job.relabel_configs ?? [];
}

test('promtool check config accepts prometheus.yml with its rule and file_sd files', async () => {
  const r = await promtool(['check', 'config', 'prometheus.yml']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /SUCCESS: prometheus\.yml is valid/);
  assert.match(r.stdout, new RegExp(`SUCCESS: ${ruleFiles().length} rule files found`));
  for (const file of ruleFiles()) {
    assert.match(r.stdout, new RegExp(`Checking rules/${file.split('/').pop()!.replace(/\./g, '\\.')}\\n\\s+SUCCESS: \\d+ rules found`));
  }
});

test('promtool check rules accepts every rule file', async () => {
  const files = ruleFiles().map((f) => `rules/${f.split('/').pop()}`);
  const r = await promtool(['check', 'rules', ...files]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal((r.stdout.match(/SUCCESS/g) ?? []).length, files.length, r.stdout);
});

test('promtool test rules: every unit test in deploy/prometheus/tests passes', async () => {
  const files = readdirSync(join(DEPLOY_PROMETHEUS, 'tests'))
    .filter((f) => f.endsWith('.yml'))
    .map((f) => `tests/${f}`);
  assert.ok(files.length >= 2, 'alert and recording rule tests');
  const r = await promtool(['test', 'rules', ...files]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal((r.stdout.match(/SUCCESS/g) ?? []).length, files.length, r.stdout);
});

test("a promtool test whose groups read each other's records pins group_eval_order", () => {
  // promtool evaluates groups in Go map order unless told: an alert on a recorded
  // series would fire on time in some runs and one interval late in others.
  for (const f of readdirSync(join(DEPLOY_PROMETHEUS, 'tests')).filter((x) => x.endsWith('.yml'))) {
    const doc = parse(readFileSync(join(DEPLOY_PROMETHEUS, 'tests', f), 'utf8')) as {
      rule_files: string[];
      group_eval_order?: string[];
    };
    const groups = doc.rule_files.flatMap((rf) => loadRuleGroups(join(DEPLOY_PROMETHEUS, 'tests', rf)));
    const producer = new Map<string, string>();
    for (const g of groups) for (const r of g.rules) if (r.record) producer.set(r.record, g.name);
    for (const g of groups) {
      for (const r of g.rules) {
        for (const name of metricNamesInExpr(r.expr)) {
          const from = producer.get(name);
          if (from === undefined || from === g.name) continue;
          const order = doc.group_eval_order ?? [];
          assert.ok(
            order.includes(from) && order.includes(g.name) && order.indexOf(from) < order.indexOf(g.name),
            `${f}: group ${g.name} reads ${name} from ${from}; group_eval_order must put ${from} first`,
          );
        }
      }
    }
  }
});

test('the promtool unit tests cover every alert firing and every recorded metric', () => {
  const firing = new Set<string>();
  const evaluated = new Set<string>();
  for (const f of readdirSync(join(DEPLOY_PROMETHEUS, 'tests')).filter((x) => x.endsWith('.yml'))) {
    const doc = parse(readFileSync(join(DEPLOY_PROMETHEUS, 'tests', f), 'utf8')) as {
      tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[]; promql_expr_test?: { expr: string }[] }[];
    };
    for (const t of doc.tests) {
      for (const a of t.alert_rule_test ?? []) if (a.exp_alerts.length > 0) firing.add(a.alertname);
      for (const e of t.promql_expr_test ?? []) for (const n of metricNamesInExpr(e.expr)) evaluated.add(n);
    }
  }
  for (const a of alerts) assert.ok(firing.has(a.alert!), `no promtool test makes ${a.alert} fire`);
  for (const r of records) assert.ok(evaluated.has(r.record!), `no promtool test evaluates ${r.record}`);
});

test('every alert has a severity and summary, description and runbook annotations', () => {
  const names = new Set<string>();
  for (const a of alerts) {
    assert.ok(!names.has(a.alert!), `duplicate alert ${a.alert}`);
    names.add(a.alert!);
    assert.match(a.labels?.severity ?? '', /^(critical|warning|info)$/, `${a.alert} severity`);
    for (const key of ['summary', 'description', 'runbook']) {
      assert.ok((a.annotations?.[key] ?? '').trim().length > 10, `${a.alert} lacks ${key}`);
    }
    assert.match(a.annotations!.runbook!, /^1\. /, `${a.alert} runbook is a numbered list of checks`);
  }
  for (const required of [
    'VPNTunnelDown',
    'VPNProbeFailing',
    'VPNSessionsDroppedToZero',
    'VPNRekeyOverdue',
    'VPNSALifetimeNearExpiry',
    'OpenVPNStatusStale',
    'VPNExporterConfigReloadFailed',
  ]) {
    assert.ok(names.has(required), `missing alert ${required}`);
  }
});

test('VPNTunnelDown alerts on site-to-site tunnels only', () => {
  const rule = alerts.find((a) => a.alert === 'VPNTunnelDown')!;
  assert.match(rule.expr, /vpn_tunnel_up\{kind="site-to-site"\}/);
});

test('rules use only metric names the exporter exposes, Prometheus adds, or the rules record', () => {
  const exported = exportedMetricNames();
  const recorded = new Set(records.map((r) => r.record!));
  for (const r of allRules) {
    for (const name of metricNamesInExpr(r.expr)) {
      assert.ok(
        exported.has(name) || recorded.has(name) || PROMETHEUS_SCRAPE_SERIES.has(name),
        `${r.alert ?? r.record} (${r.file.split('/').pop()}) uses ${name}, which nothing exposes`,
      );
    }
  }
});

test('the metric reference is read from the source and has the core family', () => {
  const exported = exportedMetricNames();
  for (const name of [
    'vpn_info',
    'vpn_tunnel_up',
    'vpn_tunnel_state',
    'vpn_user_sessions',
    'probe_success',
    'probe_duration_seconds',
    'vpn_exporter_config_last_reload_successful',
    'vpn_exporter_probe_duration_seconds_bucket',
    'strongswan_child_sa_rekey_seconds',
    'openvpn_status_age_seconds',
    'paloalto_tunnel_info',
  ]) {
    assert.ok(exported.has(name), name);
  }
  assert.ok(!exported.has('vpn_exporter_probe_duration_seconds'), 'histograms expose _bucket/_sum/_count only');
});

test('recording rules recreate the seed names and never shadow an exposed metric', () => {
  const exported = exportedMetricNames();
  const recorded = new Set(records.map((r) => r.record!));
  for (const name of recorded) assert.ok(!exported.has(name), `${name} is recorded and also exposed`);
  for (const seed of [
    'ipsec_tunnel_status',
    'strongswan_sa_bytes_inbound',
    'strongswan_sa_bytes_outbound',
    'strongswan_sa_rekey_second',
    'strongswan_bytes_in_total',
    'strongswan_bytes_out_total',
    'strongswan_sessions_total',
    'strongswan_info',
    'ovpn_bytes_in_total',
    'ovpn_bytes_out_total',
    'ovpn_sessions_total',
    'ovpn_info',
    'ifIPsecOperStatus',
  ]) {
    assert.ok(recorded.has(seed), `no recording rule for ${seed}`);
  }
});

test('every probe job uses the multi-target relabel pattern with a module per target', () => {
  assert.ok(probeJobs.length >= 5, 'a job per prober plus the sharded one');
  for (const job of probeJobs) {
    const rules = relabel(job);
    const find = (src: string, dst: string) => rules.find((r) => r.source_labels?.join(';') === src && r.target_label === dst);
    assert.ok(find('__address__', '__param_target'), `${job.job_name}: __address__ -> __param_target`);
    assert.ok(find('__param_target', 'instance'), `${job.job_name}: __param_target -> instance`);
    assert.ok(find('module', '__param_module'), `${job.job_name}: module label -> __param_module`);
    assert.ok(
      rules.some((r) => r.target_label === '__address__' && /:9234$/.test(r.replacement ?? '')),
      `${job.job_name}: scrapes the exporter on :9234`,
    );
    assert.ok((job.file_sd_configs ?? []).length > 0, `${job.job_name}: targets from file_sd`);
    for (const f of job.file_sd_configs!.flatMap((s) => s.files)) assert.match(f, /^targets\/[^/]+\.yml$/);
  }
  const self = config.scrape_configs.find((j) => j.job_name === 'vpn-exporter');
  assert.ok(self && (self.metrics_path ?? '/metrics') === '/metrics', 'a job scrapes the exporter itself');
});

test('the sharded job spreads targets over exporter replicas with hashmod and drops unrouted ones', () => {
  const sharded = probeJobs.filter((j) => relabel(j).some((r) => r.action === 'hashmod'));
  assert.equal(sharded.length, 1);
  const rules = relabel(sharded[0]!);
  const hm = rules.find((r) => r.action === 'hashmod')!;
  assert.deepEqual(hm.source_labels, ['__param_target'], 'hash the gateway, so it always goes to the same replica');
  const routes = rules.filter((r) => r.source_labels?.[0] === hm.target_label && r.target_label === '__address__');
  assert.equal(routes.length, hm.modulus, 'one route per shard');
  assert.deepEqual(
    routes.map((r) => r.regex).sort(),
    Array.from({ length: hm.modulus! }, (_, i) => String(i)),
  );
  assert.ok(rules.some((r) => r.action === 'keep' && r.source_labels?.[0] === hm.target_label));
});

test('every module the Prometheus config names exists in the deploy modules files', () => {
  const named = new Set<string>();
  for (const job of probeJobs) {
    for (const r of relabel(job)) if (r.target_label === 'module' && r.regex === '' && r.replacement) named.add(r.replacement);
  }
  const targetDir = join(DEPLOY_PROMETHEUS, 'targets');
  for (const f of readdirSync(targetDir)) {
    const groups = parse(readFileSync(join(targetDir, f), 'utf8')) as FileSdGroup[];
    assert.ok(Array.isArray(groups) && groups.length > 0, f);
    for (const g of groups) {
      assert.ok(g.targets.length > 0, f);
      for (const t of g.targets) assert.match(t, /^[A-Za-z0-9.-]+(?::\d+)?$/, `${f}: ${t}`);
      if (g.labels?.module) named.add(g.labels.module);
    }
    const globs = probeJobs.flatMap((j) => j.file_sd_configs!.flatMap((s) => s.files));
    assert.ok(
      globs.some((glob) => new RegExp(`^${glob.replace(/\./g, '\\.').replace(/\*/g, '[^/]*')}$`).test(`targets/${f}`)),
      `targets/${f} is read by no job`,
    );
  }
  const modulesOf = (text: string) => Object.keys((parse(text) as { modules: Record<string, unknown> }).modules);
  const systemd = modulesOf(readFileSync(join(REPO_ROOT, 'deploy/systemd/modules.yaml'), 'utf8'));
  const cm = parse(readFileSync(join(REPO_ROOT, 'deploy/kubernetes/configmap.yaml'), 'utf8')) as { data: Record<string, string> };
  const kubernetes = modulesOf(cm.data['modules.yaml']!);
  for (const m of named) {
    assert.ok(systemd.includes(m), `deploy/systemd/modules.yaml lacks module ${m}`);
    assert.ok(kubernetes.includes(m), `the Kubernetes ConfigMap lacks module ${m}`);
  }
});

test('deploy/README.md links to files that exist and documents every alert and recorded seed name', () => {
  const readme = readFileSync(join(REPO_ROOT, 'deploy/README.md'), 'utf8');
  for (const m of readme.matchAll(/\]\(([^)#]+)\)/g)) {
    const link = m[1]!;
    if (/^[a-z]+:/.test(link)) continue;
    assert.ok(existsSync(join(REPO_ROOT, 'deploy', link)), `deploy/README.md links to ${link}, which does not exist`);
  }
  for (const a of alerts) assert.ok(readme.includes(`\`${a.alert}\``), `README lacks alert ${a.alert}`);
  for (const r of records) {
    if (r.record!.includes(':')) continue; // helpers, not seed names
    assert.ok(readme.includes(`\`${r.record}`), `README lacks the mapping of ${r.record}`);
  }
  for (const section of ['### Binary', '### Docker', '### systemd', '### Kubernetes', '## Migrate from']) {
    assert.ok(readme.includes(section), `README lacks "${section}"`);
  }
});
