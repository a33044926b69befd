/**
 * A real Prometheus scrapes the exporter over TLS with basic auth, as its users would
 * configure it (tls_config.ca_file, basic_auth.password_file): the exporter's own
 * /metrics and a /probe of a scripted VICI gateway. A job with a wrong password sees
 * up 0. Loopback only; needs the `prometheus` binary (.ci/run installs it).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { stringify } from 'yaml';
import { startTestExporter, type TestExporter } from '../support/exporter.js';
import { makeTestPki, type TestPki } from '../support/test-pki.js';
import { type ScriptedViciServer } from '../support/vici-server.js';
import { startCharonLike } from '../support/charon-like.js';
import { freePort } from '../support/free-port.js';

// Test-only credentials: the hash is of PASSWORD (bcrypt cost 10). Never printed.
const USER = 'alice';
const PASSWORD = 'alice-scrapes-vpn';
const HASH = '$2y$10$UrPy1u.kExDC9a0kxZhFyuTb3rBgdn7KaimdNRqzsJGaxsc7a2rvy';

let dir: string;
let pki: TestPki;
let charon: ScriptedViciServer;
let exporter: TestExporter;
let prometheus: ChildProcess | undefined;
let prometheusUrl = '';
let prometheusLog = '';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function query(expr: string): Promise<{ metric: Record<string, string>; value: number }[]> {
  const res = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await res.json()) as { status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
  assert.equal(body.status, 'success');
  return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\nprometheus said:\n${prometheusLog.slice(-3000)}`);
    await sleep(250);
  }
}

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
  const configFile = join(dir, 'prometheus.yml');
  writeFileSync(configFile, stringify(config));

  for (let attempt = 0; attempt < 5 && !prometheus; attempt++) {
    const port = await freePort();
    prometheusUrl = `http://127.0.0.1:${port}`;
    prometheusLog = '';
    const child = spawn(
      'prometheus',
      [`--web.listen-address=127.0.0.1:${port}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--config.file=${configFile}`, '--log.level=warn'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child.stderr?.on('data', (d: Buffer) => (prometheusLog = (prometheusLog + d.toString()).slice(-100_000)));
    let exited = false;
    child.once('exit', () => (exited = true));
    child.once('error', (err) => {
      exited = true;
      prometheusLog += `cannot run prometheus: ${err.message}\n`;
    });
    const deadline = Date.now() + 15_000;
    while (!exited && Date.now() < deadline && !(await fetch(`${prometheusUrl}/-/ready`).then((r) => r.ok, () => false))) await sleep(100);
    if (exited) {
      if (/address already in use/.test(prometheusLog)) continue; // the port was taken meanwhile
      throw new Error(`prometheus exited at start:\n${prometheusLog}`);
    }
    if (Date.now() >= deadline) {
      child.kill('SIGKILL');
      throw new Error(`prometheus not ready within 15 s:\n${prometheusLog}`);
    }
    prometheus = child;
  }
  assert.ok(prometheus, `prometheus could not bind a port:\n${prometheusLog}`);
});

after(async () => {
  const proc = prometheus;
  if (proc && proc.exitCode === null && proc.signalCode === null) {
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
  await exporter?.close();
  await charon?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('Prometheus scrapes /metrics and /probe over TLS with basic auth; a wrong password is up 0', async () => {
  const up = await waitFor('every job scraped once', async () => {
    const samples = await query('up');
    const byJob = new Map(samples.map((s) => [s.metric.job, s.value]));
    return byJob.size === 3 ? byJob : undefined;
  });
  assert.equal(up.get('exporter'), 1, prometheusLog);
  assert.equal(up.get('vpn'), 1, prometheusLog);
  assert.equal(up.get('exporter_wrong_password'), 0);

  const success = await waitFor('probe_success', async () => (await query('probe_success{job="vpn"}'))[0]);
  assert.equal(success.value, 1);
  assert.equal(success.metric.instance, `127.0.0.1:${charon.port}`);
  const tunnels = await query('vpn_tunnel_up{job="vpn"}');
  assert.ok(tunnels.length > 0, 'the probe\'s metrics reached Prometheus');
  const own = await query('process_start_time_seconds{job="exporter"}');
  assert.equal(own.length, 1);

  // Why the wrong password is down, as Prometheus reports it.
  const res = await fetch(`${prometheusUrl}/api/v1/targets?state=active`);
  const targets = ((await res.json()) as { data: { activeTargets: { labels: Record<string, string>; lastError: string; scrapeUrl: string }[] } }).data
    .activeTargets;
  const wrong = targets.find((t) => t.labels.job === 'exporter_wrong_password');
  assert.match(wrong?.lastError ?? '', /401/);
  for (const t of targets) assert.match(t.scrapeUrl, /^https:\/\//);

  for (const secret of [PASSWORD, Buffer.from(`${USER}:${PASSWORD}`).toString('base64')]) {
    assert.ok(!exporter.logs.some((l) => l.includes(secret)), 'a password reached the exporter log');
  }
});
