/**
 * A real Prometheus scrapes the exporter over TLS with basic auth, as its users would
 * configure it (tls_config.ca_file, basic_auth.password_file): the exporter's own
 * /metrics and a /probe of a scripted VICI gateway. A job with a wrong password sees
 * up 0. Loopback only; needs the `prometheus` binary (.ci/run installs it).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { stringify } from 'yaml';
import { startTestExporter, type TestExporter } from '../support/exporter.js';
import { makeTestPki, type TestPki } from '../support/test-pki.js';
import type { ScriptedViciServer } from '../support/vici-server.js';
import { startCharonLike } from '../support/charon-like.js';
import { startPrometheus, type PrometheusServer } from '../support/prometheus.js';

// Test-only credentials: the hash is of PASSWORD (bcrypt cost 10). Never printed.
const USER = 'alice';
const PASSWORD = 'alice-scrapes-vpn';
const HASH = '$2y$10$UrPy1u.kExDC9a0kxZhFyuTb3rBgdn7KaimdNRqzsJGaxsc7a2rvy';

let dir: string;
let pki: TestPki;
let charon: ScriptedViciServer;
let exporter: TestExporter;
let prometheus: PrometheusServer;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vpnx-prom-tls-'));
  pki = await makeTestPki(dir);
  charon = await startCharonLike(2);
  const webConfig = join(dir, 'web.yml');
  writeFileSync(webConfig, `tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\nbasic_auth_users:\n  ${USER}: ${HASH}\n`);
  exporter = await startTestExporter('modules:\n  vici:\n    prober: strongswan-vici-tcp\n    timeout: 5s\n', { webConfigFile: webConfig });
  const exporterAddress = new URL(exporter.url).host;

  writeFileSync(join(dir, 'password'), PASSWORD, { mode: 0o600 });
  writeFileSync(join(dir, 'wrong-password'), 'not-the-password', { mode: 0o600 });
  const secured = (passwordFile: string) => ({
    scheme: 'https',
    tls_config: { ca_file: pki.ca.cert },
    basic_auth: { username: USER, password_file: join(dir, passwordFile) },
  });
  const config = {
    global: { scrape_interval: '2s', scrape_timeout: '2s', evaluation_interval: '2s' },
    scrape_configs: [
      { job_name: 'exporter', ...secured('password'), static_configs: [{ targets: [exporterAddress] }] },
      {
        job_name: 'vpn',
        ...secured('password'),
        metrics_path: '/probe',
        params: { module: ['vici'] },
        static_configs: [{ targets: [`127.0.0.1:${charon.port}`] }],
        relabel_configs: [
          { source_labels: ['__address__'], target_label: '__param_target' },
          { source_labels: ['__param_target'], target_label: 'instance' },
          { target_label: '__address__', replacement: exporterAddress },
        ],
      },
      { job_name: 'exporter_wrong_password', ...secured('wrong-password'), static_configs: [{ targets: [exporterAddress] }] },
    ],
  };
  prometheus = await startPrometheus({ config: stringify(config), files: {} });
});

after(async () => {
  await prometheus?.stop();
  await exporter?.close();
  await charon?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('Prometheus scrapes /metrics and /probe over TLS with basic auth; a wrong password is up 0', async () => {
  const up = await prometheus.waitFor('every job scraped once', async () => {
    const samples = await prometheus.query('up');
    const byJob = new Map(samples.map((s) => [s.metric.job, s.value]));
    return byJob.size === 3 ? byJob : undefined;
  });
  assert.equal(up.get('exporter'), 1, prometheus.log());
  assert.equal(up.get('vpn'), 1, prometheus.log());
  assert.equal(up.get('exporter_wrong_password'), 0);

  const success = await prometheus.waitFor('probe_success', async () => (await prometheus.query('probe_success{job="vpn"}'))[0]);
  assert.equal(success.value, 1);
  assert.equal(success.metric.instance, `127.0.0.1:${charon.port}`);
  const tunnels = await prometheus.query('vpn_tunnel_up{job="vpn"}');
  assert.ok(tunnels.length > 0, "the probe's metrics reached Prometheus");
  const own = await prometheus.query('process_start_time_seconds{job="exporter"}');
  assert.equal(own.length, 1);

  // Why the wrong password is down, as Prometheus reports it.
  const targets = await prometheus.targets();
  const wrong = targets.find((t) => t.labels.job === 'exporter_wrong_password');
  assert.match(wrong?.lastError ?? '', /401/);
  for (const t of targets) assert.match(t.scrapeUrl, /^https:\/\//);

  for (const secret of [PASSWORD, Buffer.from(`${USER}:${PASSWORD}`).toString('base64')]) {
    assert.ok(!exporter.logs.some((l) => l.includes(secret)), 'a password reached the exporter log');
  }
});
