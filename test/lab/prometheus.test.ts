// deploy/prometheus end to end: a real Prometheus, configured from deploy/prometheus's
// jobs, relabel rules and rule files (only intervals, addresses, targets and alert
// `for:` changed), scrapes two in-process exporters that probe real gateways: the
// strongSwan VICI lab, the stroke lab over SSH, the OpenVPN lab, the PAN-OS emulator,
// and scripted VICI servers for the failure and the sharded job.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { charonCommands } from '../support/charon-like.js';
import { sampleValue, startTestExporter, type TestExporter } from '../support/exporter.js';
import { SCENARIOS, startPanosEmulator, type PanosEmulator } from '../support/panos-emulator/index.js';
import { REPO_ROOT, hashmod, startPrometheus, testPrometheusConfig, type PrometheusServer, type Sample } from '../support/prometheus.js';
import { startViciServer, type ScriptedViciServer } from '../support/vici-server.js';
import { startOpenvpnLab, type OpenvpnLab } from './support/openvpn-lab.js';
import { startGatewaySshd, type GatewaySshd } from './support/stroke-ssh-lab.js';
import { startStrokeLab, startViciLab, type StrokeLab, type ViciLab } from './support/strongswan-lab.js';

const INTERVAL = '2s';

let viciLab: ViciLab | undefined;
let strokeLab: StrokeLab | undefined;
let strokeSshd: GatewaySshd | undefined;
let ovpnLab: OpenvpnLab | undefined;
let panos: PanosEmulator | undefined;
/** A charon-shaped gateway with a down site-to-site conn (site-4); stopped by the last test. */
let charon: ScriptedViciServer | undefined;
/** Gateways of the sharded job, spread over both exporters. */
const fleet: ScriptedViciServer[] = [];
let exporterA: TestExporter | undefined;
let exporterB: TestExporter | undefined;
let prom: PrometheusServer;

/** Job, instance and module of every probe target, as Prometheus must label its series. */
const expected: { job: string; instance: string; module: string }[] = [];

function scriptedCharon(conns: number, sas: number): Promise<ScriptedViciServer> {
  return startViciServer({ commands: charonCommands({ sas, conns, leases: 3 }) });
}

function modulesYaml(): string {
  const q = (s: string) => JSON.stringify(s);
  const ssh = (user: string, key: string, knownHosts: string) =>
    `    ssh:\n      username: ${q(user)}\n      private_key: {file: ${q(key)}}\n      known_hosts: ${q(knownHosts)}\n`;
  const ovpn = ovpnLab!;
  return [
    'modules:',
    // The jobs' default modules (deploy/prometheus/prometheus.yml), plus one picked by a target label.
    '  strongswan_vici:\n    prober: strongswan-vici-tcp\n    timeout: 5s\n',
    '  strongswan_vici_lab:\n    prober: strongswan-vici-tcp\n    timeout: 5s\n    pools: true\n',
    `  ipsec_ssh:\n    prober: ipsec-ssh\n    timeout: 5s\n${ssh(strokeSshd!.user, strokeSshd!.privateKeyFile, strokeSshd!.knownHostsFile)}`,
    '  openvpn_ssh:\n    prober: openvpn-ssh\n    timeout: 5s\n' +
      ssh(ovpn.sshUser, ovpn.privateKeyFile, ovpn.knownHostsFile) +
      '    status_files:\n' +
      Object.entries(ovpn.statusFiles)
        .map(([name, path]) => `      - {name: ${name}, path: ${q(path)}}\n`)
        .join(''),
    '  paloalto_ssh:\n    prober: paloalto-ssh\n    timeout: 5s\n' +
      `    ssh:\n      username: ${q(panos!.username)}\n      password: ${q(panos!.password)}\n` +
      `      host_key_fingerprints: [${q(panos!.hostKeyFingerprint)}]\n`,
    '',
  ].join('\n');
}

/** Scripted gateways for the sharded job until both exporters have at least one. */
async function startFleet(): Promise<void> {
  const shards = new Set<number>();
  while (fleet.length < 3 || shards.size < 2) {
    const s = await scriptedCharon(2, 3);
    fleet.push(s);
    shards.add(hashmod(`127.0.0.1:${s.port}`, 2));
    assert.ok(fleet.length < 40, 'hashmod put 40 gateways on one shard');
  }
}

before(async () => {
  const started = await Promise.allSettled([
    startViciLab().then((l) => (viciLab = l)),
    startStrokeLab().then(async (l) => {
      strokeLab = l;
      strokeSshd = await startGatewaySshd(l);
    }),
    startOpenvpnLab().then((l) => (ovpnLab = l)),
    startPanosEmulator(SCENARIOS.someInactive).then((p) => (panos = p)),
    scriptedCharon(5, 3).then((c) => (charon = c)),
    startFleet(),
  ]);
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;

  exporterA = await startTestExporter(modulesYaml(), { timeoutOffsetSeconds: 0.3 });
  exporterB = await startTestExporter(modulesYaml(), { timeoutOffsetSeconds: 0.3 });
  const a = new URL(exporterA.url).host;
  const b = new URL(exporterB.url).host;

  const charonTarget = `127.0.0.1:${charon!.port}`;
  const targets = {
    'targets/strongswan-vici.yml': [{ targets: [charonTarget] }, { targets: [viciLab!.target], labels: { module: 'strongswan_vici_lab', site: 'lab' } }],
    'targets/ipsec-ssh.yml': [{ targets: [strokeSshd!.target] }],
    'targets/openvpn-ssh.yml': [{ targets: [ovpnLab!.target] }],
    'targets/paloalto-ssh.yml': [{ targets: [`${panos!.host}:${panos!.port}`] }],
    'targets/fleet-lab.yml': [{ targets: fleet.map((s) => `127.0.0.1:${s.port}`), labels: { module: 'strongswan_vici' } }],
  };
  expected.push(
    { job: 'vpn-strongswan-vici', instance: charonTarget, module: 'strongswan_vici' },
    { job: 'vpn-strongswan-vici', instance: viciLab!.target, module: 'strongswan_vici_lab' },
    { job: 'vpn-ipsec-ssh', instance: strokeSshd!.target, module: 'ipsec_ssh' },
    { job: 'vpn-openvpn-ssh', instance: ovpnLab!.target, module: 'openvpn_ssh' },
    { job: 'vpn-paloalto-ssh', instance: `${panos!.host}:${panos!.port}`, module: 'paloalto_ssh' },
    ...fleet.map((s) => ({ job: 'vpn-fleet-sharded', instance: `127.0.0.1:${s.port}`, module: 'strongswan_vici' })),
  );
  prom = await startPrometheus(
    testPrometheusConfig({
      exporters: {
        '127.0.0.1:9234': a,
        'vpn-exporter-a.example.net:9234': a,
        'vpn-exporter-b.example.net:9234': b,
      },
      targets,
      scrapeInterval: INTERVAL,
      scrapeTimeout: INTERVAL,
      evaluationInterval: INTERVAL,
      alertFor: '2s',
    }),
  );
});

after(async () => {
  await prom?.stop();
  await exporterA?.close();
  await exporterB?.close();
  for (const s of [charon, ...fleet]) await s?.close();
  await panos?.close();
  await ovpnLab?.stop();
  await strokeSshd?.stop();
  await strokeLab?.stop();
  await viciLab?.stop();
});

/** The samples of a query, keyed by the values of `keys` joined with "|". */
async function byLabels(expr: string, ...keys: string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const s of await prom.query(expr)) out[keys.map((k) => s.metric[k] ?? '').join('|')] = s.value;
  return out;
}

/** Waits until `expr` returns exactly `want` (keyed as byLabels does). */
async function waitForQuery(expr: string, keys: string[], want: Record<string, number>, timeoutMs = 30_000): Promise<void> {
  let last: Record<string, number> = {};
  try {
    await prom.waitFor(
      expr,
      async () => {
        last = await byLabels(expr, ...keys);
        try {
          assert.deepEqual(last, want);
          return true;
        } catch {
          return undefined;
        }
      },
      timeoutMs,
    );
  } catch (err) {
    assert.deepEqual(last, want, `${expr}\n${String(err).split('\n')[0]}`);
  }
}

/** Waits until `expr` returns series for exactly these label combinations (values free); returns them. */
async function waitForKeys(expr: string, keys: string[], want: string[], timeoutMs = 30_000): Promise<Record<string, number>> {
  let last: Record<string, number> = {};
  await prom
    .waitFor(
      expr,
      async () => {
        last = await byLabels(expr, ...keys);
        return Object.keys(last).sort().join(',') === [...want].sort().join(',') ? true : undefined;
      },
      timeoutMs,
    )
    .catch(() => undefined);
  assert.deepEqual(Object.keys(last).sort(), [...want].sort(), expr);
  return last;
}

const okAll = () => Object.fromEntries(expected.map((e) => [`${e.job}|${e.instance}|${e.module}`, 1]));

test('every target is probed through the exporter: probe_success 1 with its job, instance and module', async () => {
  await waitForQuery('probe_success', ['job', 'instance', 'module'], okAll(), 60_000);
  // The exporter's own job scrapes on its own schedule: its first sample may come later.
  await waitForQuery('up{job="vpn-exporter"}', ['instance'], { [new URL(exporterA!.url).host]: 1 });
  const site = await byLabels('probe_success{site="lab"}', 'instance');
  assert.deepEqual(site, { [viciLab!.target]: 1 }, 'file_sd labels reach the series');
});

test("tunnel and session series are the gateways' own", async () => {
  const charonTarget = `127.0.0.1:${charon!.port}`;
  const sessions = await byLabels(
    `vpn_tunnel_sessions{instance=~"${[charonTarget, viciLab!.target, strokeSshd!.target, ovpnLab!.target].join('|')}"}`,
    'instance',
    'tunnel',
  );
  const ovpnExpected = Object.fromEntries(
    Object.entries(ovpnLab!.expectedClients).map(([server, cns]) => [`${ovpnLab!.target}|${server}`, Object.values(cns).reduce((a, b) => a + b, 0)]),
  );
  assert.deepEqual(sessions, {
    // Scripted charon: five conns configured, three IKE_SAs (site-0, rw-eap, site-2).
    [`${charonTarget}|site-0`]: 1,
    [`${charonTarget}|rw-1`]: 0,
    [`${charonTarget}|site-2`]: 1,
    [`${charonTarget}|rw-3`]: 0,
    [`${charonTarget}|site-4`]: 0,
    [`${charonTarget}|rw-eap`]: 1,
    // VICI lab: site-a up, site-b down, alice and bob on rw-eap, carol on rw-xauth.
    [`${viciLab!.target}|site-a`]: 1,
    [`${viciLab!.target}|site-b`]: 0,
    [`${viciLab!.target}|rw-eap`]: 2,
    [`${viciLab!.target}|rw-xauth`]: 1,
    // Stroke lab: the same without carol, plus a conn parked with auto=ignore.
    [`${strokeSshd!.target}|site-a`]: 1,
    [`${strokeSshd!.target}|site-b`]: 0,
    [`${strokeSshd!.target}|rw-eap`]: 2,
    [`${strokeSshd!.target}|parked`]: 0,
    ...ovpnExpected,
  });
  const states = await byLabels('vpn_tunnel_state == 1', 'instance', 'tunnel', 'state');
  for (const [key, state] of [
    [`${viciLab!.target}|site-a`, 'up'],
    [`${viciLab!.target}|site-b`, 'down'],
    [`${strokeSshd!.target}|parked`, 'ignored'],
    [`${panos!.host}:${panos!.port}|IPSEC-PARTNER`, 'up'],
    [`${panos!.host}:${panos!.port}|IPSEC-BANK`, 'down'],
  ] as const) {
    assert.equal(states[`${key}|${state}`], 1, `${key} is ${state}`);
  }
  const users = await byLabels(`vpn_user_sessions{instance="${viciLab!.target}", tunnel=~"rw-.*"}`, 'tunnel', 'user');
  assert.deepEqual(users, { 'rw-eap|alice': 1, 'rw-eap|bob': 1, 'rw-xauth|carol': 1 });
});

test('the sharded job sends each gateway to the exporter replica hashmod picks', async () => {
  const replicas = [new URL(exporterA!.url).host, new URL(exporterB!.url).host];
  const targets = (await prom.targets()).filter((t) => t.scrapePool === 'vpn-fleet-sharded');
  assert.equal(targets.length, fleet.length);
  const used = new Set<string>();
  for (const t of targets) {
    const url = new URL(t.scrapeUrl);
    const gateway = url.searchParams.get('target')!;
    assert.equal(url.host, replicas[hashmod(gateway, 2)], `${gateway} goes to replica ${hashmod(gateway, 2)}`);
    assert.equal(url.searchParams.get('module'), 'strongswan_vici');
    assert.equal(t.labels.instance, gateway);
    used.add(url.host);
  }
  assert.equal(used.size, 2, 'both replicas carry part of the fleet');
  const probed = sampleValue(await (await exporterB!.get('/metrics')).text(), 'vpn_exporter_probes_total{module="strongswan_vici",result="success"}');
  assert.ok((probed ?? 0) > 0, 'replica b probed its share');
});

test("the recording rules produce the seed exporters' metric names", async () => {
  const vici = viciLab!.target;
  const stroke = strokeSshd!.target;
  const ovpn = ovpnLab!.target;
  const pa = `${panos!.host}:${panos!.port}`;
  await waitForQuery(`ipsec_tunnel_status{instance=~"${vici}|${stroke}"}`, ['instance', 'tunnel'], {
    [`${vici}|site-a`]: 0,
    [`${vici}|site-b`]: 2,
    [`${vici}|rw-eap`]: 0,
    [`${vici}|rw-xauth`]: 0,
    [`${stroke}|site-a`]: 0,
    [`${stroke}|site-b`]: 2,
    [`${stroke}|rw-eap`]: 0,
    [`${stroke}|parked`]: 4,
  });
  const inbound = await waitForKeys(
    `strongswan_sa_bytes_inbound{instance="${vici}"}`,
    ['ike_name', 'child_name'],
    ['site-a|net-a', 'rw-eap|rw-eap-net', 'rw-xauth|rw-xauth-net'],
  );
  assert.ok((inbound['site-a|net-a'] ?? 0) > 0, `site-a/net-a carried traffic: ${JSON.stringify(inbound)}`);
  await waitForKeys(`strongswan_sa_bytes_outbound{instance="${vici}"}`, ['ike_name', 'child_name'], Object.keys(inbound));
  const rekey = await waitForKeys(`strongswan_sa_rekey_second{instance="${vici}"}`, ['ike_name', 'child_name'], Object.keys(inbound));
  assert.ok((rekey['site-a|net-a'] ?? 0) > 0, JSON.stringify(rekey));
  const viciUsers = ['alice', 'bob', 'carol', 'site-a.example'];
  await waitForKeys(`strongswan_bytes_in_total{instance="${vici}"}`, ['client'], viciUsers);
  await waitForKeys(`strongswan_bytes_out_total{instance="${vici}"}`, ['client'], viciUsers);
  await waitForQuery(`strongswan_sessions_total{instance="${vici}"}`, ['instance'], { [vici]: 4 });
  const info = await waitForKeys(`strongswan_info{instance="${vici}"}`, ['product'], ['charon']);
  assert.equal(Object.keys(info).length, 1);
  const version = await byLabels(`strongswan_info{instance="${vici}"}`, 'version');
  assert.match(Object.keys(version)[0] ?? '', /^5\.\d+\.\d+/);

  const wantClients = Object.entries(ovpnLab!.expectedClients).flatMap(([server, cns]) => Object.keys(cns).map((cn) => `${cn}_${server}`));
  // "<CN>_<status file name>": with status files named after their protocol, the seed's "<CN>_<proto>".
  await waitForKeys(`ovpn_bytes_in_total{instance="${ovpn}"}`, ['client'], wantClients);
  await waitForKeys(`ovpn_bytes_out_total{instance="${ovpn}"}`, ['client'], wantClients);
  const total = Object.values(ovpnLab!.expectedClients)
    .flatMap((cns) => Object.values(cns))
    .reduce((x, y) => x + y, 0);
  await waitForQuery(`ovpn_sessions_total{instance="${ovpn}"}`, ['instance'], { [ovpn]: total });
  await waitForKeys(`ovpn_info{instance="${ovpn}"}`, ['product'], ['OpenVPN']);
  assert.match(Object.keys(await byLabels(`ovpn_info{instance="${ovpn}"}`, 'version'))[0] ?? '', /^2\.\d+/);

  await waitForQuery(`ifIPsecOperStatus{instance="${pa}"}`, ['ifAlias', 'ifIndex', 'ifDescr', 'ifName'], {
    'IPSEC-BANK|2|tunnel.2|tunnel.2': 2,
    'IPSEC-PARTNER|3|tunnel.3|tunnel.3': 1,
    'IPSEC-BRANCH-4|4|tunnel.4|tunnel.4': 2,
  });

  const broken = (await prom.rules()).filter((r) => r.health === 'err');
  assert.deepEqual(broken, [], 'every rule evaluates');
});

test('VPNTunnelDown fires for the down site-to-site tunnels, never for idle remote-access conns', async () => {
  const charonTarget = `127.0.0.1:${charon!.port}`;
  const idle = await byLabels(`vpn_tunnel_up{kind="remote-access"} == 0`, 'instance', 'tunnel');
  assert.ok(`${charonTarget}|rw-1` in idle, 'an idle remote-access conn exists, so the test means something');
  const want = [
    `${charonTarget}|site-4`,
    `${viciLab!.target}|site-b`,
    `${strokeSshd!.target}|site-b`,
    `${panos!.host}:${panos!.port}|IPSEC-BANK`,
    `${panos!.host}:${panos!.port}|IPSEC-BRANCH-4`,
  ].sort();
  let firing: string[] = [];
  await prom
    .waitFor('VPNTunnelDown', async () => {
      firing = (await prom.alerts())
        .filter((a) => a.labels.alertname === 'VPNTunnelDown' && a.state === 'firing')
        .map((a) => `${a.labels.instance}|${a.labels.tunnel}`)
        .sort();
      return firing.length === want.length ? true : undefined;
    })
    .catch(() => undefined);
  assert.deepEqual(firing, want);
});

test('every Grafana dashboard query runs against this Prometheus, and the fleet panels add up', async () => {
  const dash = JSON.parse(readFileSync(join(REPO_ROOT, 'deploy/grafana/vpn-exporter-dashboard.json'), 'utf8')) as {
    panels: { title: string; targets?: { expr: string }[] }[];
  };
  const interpolate = (e: string) => e.replace(/\$__rate_interval/g, '10s').replace(/\$\{?(\w+)\}?/g, '.*');
  for (const p of dash.panels) {
    for (const t of p.targets ?? []) {
      await assert.doesNotReject(prom.query(interpolate(t.expr)), `${p.title}: ${t.expr}`);
    }
  }
  const stat = async (title: string): Promise<Sample[]> => {
    const expr = dash.panels.find((p) => p.title === title)!.targets![0]!.expr;
    return prom.query(interpolate(expr));
  };
  assert.equal((await stat('Gateways up'))[0]?.value, expected.length);
  assert.equal((await stat('Site-to-site tunnels down'))[0]?.value, 5);
  assert.ok(((await stat('Users online'))[0]?.value ?? 0) >= 6, 'users of the VICI, stroke and OpenVPN labs');
});

test('a stopped gateway turns into probe_success 0 and fires VPNProbeFailing', async () => {
  const instance = `127.0.0.1:${charon!.port}`;
  await charon!.close();
  await waitForQuery(`probe_success{instance="${instance}"}`, ['job', 'module'], { 'vpn-strongswan-vici|strongswan_vici': 0 });
  // Its tunnel series are gone with the failed probe, not left at their last value.
  await waitForQuery(`count(vpn_tunnel_up{instance="${instance}"}) or vector(0)`, [], { '': 0 });
  const alert = await prom.waitFor('VPNProbeFailing', async () =>
    (await prom.alerts()).find((a) => a.labels.alertname === 'VPNProbeFailing' && a.state === 'firing'),
  );
  assert.equal(alert.labels.instance, instance);
  assert.equal(alert.labels.module, 'strongswan_vici');
  assert.equal(alert.labels.job, 'vpn-strongswan-vici');
  assert.equal(alert.labels.severity, 'critical');
  assert.equal(alert.annotations.summary, `VPN gateway ${instance} cannot be probed`);
  assert.match(alert.annotations.runbook ?? '', new RegExp(`/probe\\?target=${instance.replace(/\./g, '\\.')}&module=strongswan_vici&debug=true`));
  const others = (await prom.alerts()).filter((a) => a.labels.alertname === 'VPNProbeFailing' && a.labels.instance !== instance);
  assert.deepEqual(others, [], 'no other gateway is failing');
});
