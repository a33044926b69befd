import { matching, samples } from '../support/exposition.js';
// The ipsec-ssh prober end to end: a real charon started by starter from ipsec.conf (with an included file),
// a real sshd in the gateway's namespace and mounts, the exporter in-process. Every figure the exporter
// reports is checked against `ipsec statusall` run directly on the gateway around the same probe.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { sampleValue, startTestExporter, type TestExporter } from '../support/exporter.js';
import { charonCommands } from '../support/charon-like.js';
import { startViciServer, type ScriptedViciServer } from '../support/vici-server.js';
import { run, runInNs } from './support/netns.js';
import { startGatewaySshd, type GatewaySshd } from './support/stroke-ssh-lab.js';
import { startStrokeLab, type StrokeLab } from './support/strongswan-lab.js';
import { PLAN, SHUNTS } from './support/strongswan-config.js';
import { assertCertificates } from './support/cert-compare.js';
import { TUNNEL_STATES } from '../../src/model/snapshot.js';

let lab: StrokeLab;
let sshd: GatewaySshd;
let vici: ScriptedViciServer;
let exporter: TestExporter;

function modulesYaml(): string {
  const q = (s: string) => JSON.stringify(s);
  const login = (hostKey: string) => `    ssh:\n      username: ${sshd.user}\n      private_key: {file: ${q(sshd.privateKeyFile)}}\n      ${hostKey}\n`;
  return [
    'modules:',
    `  stroke:\n    prober: ipsec-ssh\n    timeout: 10s\n${login(`known_hosts: ${q(sshd.knownHostsFile)}`)}`,
    `  stroke_pinned:\n    prober: ipsec-ssh\n    timeout: 10s\n${login(`host_key_fingerprints: [${q(sshd.otherKeyFingerprint)}]`)}`,
    '  vici:\n    prober: strongswan-vici-tcp\n    timeout: 5s\n',
    '',
  ].join('\n');
}

before(async () => {
  lab = await startStrokeLab();
  sshd = await startGatewaySshd(lab);
  // Charon-shaped VICI answers (site-to-site and EAP road warrior, pools): what the VICI prober emits for them.
  vici = await startViciServer({ commands: charonCommands({ sas: 2, conns: 3 }) });
  exporter = await startTestExporter(modulesYaml());
});

after(async () => {
  await exporter?.close();
  await vici?.close();
  await sshd?.stop();
  await lab?.stop();
});

// ---- the exporter's answers -------------------------------------------------------------------------------

async function probe(module: string, opts: { debug?: boolean; target?: string } = {}): Promise<string> {
  const target = opts.target ?? sshd.target;
  const res = await exporter.get(`/probe?module=${module}&target=${target}${opts.debug ? '&debug=true' : ''}`);
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return text;
}

function only(text: string, name: string, match: Record<string, string>): number {
  const found = matching(text, name, match);
  assert.equal(found.length, 1, `exactly one ${name}${JSON.stringify(match)} in:\n${text}`);
  return found[0]?.value ?? NaN;
}

/** Metric names with at least one sample, e.g. to compare what two probers emit. */
function metricNames(text: string, prefix: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{.*\})? \S+$/.exec(line);
    if (m?.[1]?.startsWith(prefix)) names.add(m[1]);
  }
  return names;
}

async function handshakes(): Promise<number> {
  const text = await (await exporter.get('/metrics')).text();
  const n = sampleValue(text, 'vpn_exporter_ssh_handshakes_total');
  assert.ok(n !== undefined, `no vpn_exporter_ssh_handshakes_total in /metrics:\n${text}`);
  return n;
}

// ---- the gateway's own view: `ipsec statusall`, read independently of the prober's parser -----------------

interface Traffic {
  bytesIn: number;
  bytesOut: number;
  packetsIn: number;
  packetsOut: number;
}

interface GatewayView {
  text: string;
  version: string;
  /** Conns charon has loaded (the "Connections:" section). */
  loaded: Set<string>;
  /** Shunt conns (all children PASS or DROP) and their mode. */
  shunts: Map<string, string>;
  /** ESTABLISHED IKE_SAs per conn. */
  established: Map<string, number>;
  /** INSTALLED CHILD_SAs per conn. */
  installed: Map<string, number>;
  /** IKE_SAs per EAP identity, e.g. "rw-eap/alice". */
  eapUsers: Map<string, number>;
  /** CHILD_SA counters summed per conn, and per conn/EAP identity. */
  traffic: Map<string, Traffic>;
}

function bump<K>(map: Map<K, number>, key: K): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function addTraffic(map: Map<string, Traffic>, key: string, t: Traffic): void {
  const sum = map.get(key) ?? { bytesIn: 0, bytesOut: 0, packetsIn: 0, packetsOut: 0 };
  map.set(key, {
    bytesIn: sum.bytesIn + t.bytesIn,
    bytesOut: sum.bytesOut + t.bytesOut,
    packetsIn: sum.packetsIn + t.packetsIn,
    packetsOut: sum.packetsOut + t.packetsOut,
  });
}

async function gatewayView(): Promise<GatewayView> {
  const text = await lab.ipsec(['statusall']);
  const version = /^Status of IKE charon daemon \(strongSwan ([^,)]+)/m.exec(text)?.[1];
  assert.ok(version, `no daemon line in:\n${text}`);
  const view: GatewayView = {
    text,
    version,
    loaded: new Set(),
    shunts: new Map(),
    established: new Map(),
    installed: new Map(),
    eapUsers: new Map(),
    traffic: new Map(),
  };
  const [connSection = '', saSection = ''] = text.split(/^Connections:$/m)[1]?.split(/^Security Associations .*$/m) ?? [];
  // A conn whose children are all PASS or DROP is a shunt (a policy), not a loaded tunnel.
  const childModes = new Map<string, string[]>();
  for (const m of connSection.matchAll(/^\s+(\S+): {3}child: {2}.* ([A-Z_]+)(?:, dpdaction=\S+)?$/gm)) {
    childModes.set(m[1] ?? '', [...(childModes.get(m[1] ?? '') ?? []), m[2] ?? '']);
  }
  for (const [conn, modes] of childModes) if (modes.every((mode) => mode === 'PASS' || mode === 'DROP')) view.shunts.set(conn, modes[0] ?? '');
  for (const m of connSection.matchAll(/^\s+(\S+): {2}\S*\.\.\.\S* {2}IKE/gm)) if (!view.shunts.has(m[1] ?? '')) view.loaded.add(m[1] ?? '');
  // The IKE_SA a line belongs to: "conn[3]: …" lines open one, "conn{5}: …" lines are its children.
  const userOf = new Map<string, string>();
  let ike = '';
  for (const line of saSection.split('\n')) {
    const ikeLine = /^\s+(\S+)\[(\d+)\]: (.*)$/.exec(line);
    if (ikeLine) {
      const [, conn = '', id = '', rest = ''] = ikeLine;
      ike = `${conn}[${id}]`;
      if (/^ESTABLISHED /.test(rest)) bump(view.established, conn);
      const eap = /^Remote EAP identity: (.+)$/.exec(rest);
      if (eap) {
        userOf.set(ike, eap[1] ?? '');
        bump(view.eapUsers, `${conn}/${eap[1]}`);
      }
      continue;
    }
    const child = /^\s+(\S+)\{\d+\}:\s+(.*)$/.exec(line);
    if (!child) continue;
    const [, conn = '', rest = ''] = child;
    if (/^INSTALLED,/.test(rest)) bump(view.installed, conn);
    const counters = /, (\d+) bytes_i(?: \((\d+) pkts?,[^)]*\))?, (\d+) bytes_o(?: \((\d+) pkts?,[^)]*\))?/.exec(rest);
    if (counters) {
      const t = {
        bytesIn: Number(counters[1]),
        packetsIn: Number(counters[2] ?? 0),
        bytesOut: Number(counters[3]),
        packetsOut: Number(counters[4] ?? 0),
      };
      addTraffic(view.traffic, conn, t);
      const user = userOf.get(ike);
      if (user !== undefined) addTraffic(view.traffic, `${conn}/${user}`, t);
    }
  }
  return view;
}

/**
 * A TCP round trip through site-a, from the peer's LAN to a closed port on the gateway's LAN: "refused"
 * proves the SYN went in and the RST came back out, so both of the gateway's site-a counters moved.
 */
async function trafficThroughSiteA(): Promise<void> {
  const peerNs = lab.gatewayNs.replace(/-gw$/, '-pa');
  const r = await runInNs(peerNs, 'socat', ['-u', 'OPEN:/dev/null', `TCP:${PLAN.gw.lan}:9,connect-timeout=2`], {
    okExitCodes: [0, 1],
  });
  assert.match(r.stderr, /refused/i, 'the round trip through site-a did not come back');
}

function assertBetween(what: string, exported: number, low: number, high: number): void {
  assert.ok(low <= exported && exported <= high, `${what}: exported ${exported}, gateway said ${low} before and ${high} after`);
}

// ---- tests --------------------------------------------------------------------------------------------------

test('reports tunnels, users, version and counters as `ipsec statusall` shows them around the probe', async () => {
  const beforeView = await gatewayView();
  await trafficThroughSiteA();
  const text = await probe('stroke');
  const afterView = await gatewayView();

  assert.equal(sampleValue(text, 'probe_success'), 1, text);
  // The scenario holds in both direct readings, so the probe saw it too.
  for (const view of [beforeView, afterView]) {
    assert.equal(view.established.get('site-a'), 1, view.text);
    assert.equal(view.installed.get('site-a'), 1, view.text);
    assert.equal(view.established.get('rw-eap'), 2, view.text);
    assert.equal(view.installed.get('rw-eap'), 2, view.text);
    assert.equal(view.established.get('site-b') ?? 0, 0, view.text);
  }

  // Tunnel states, with kinds.
  assert.equal(only(text, 'vpn_tunnel_up', { tunnel: 'site-a', kind: 'site-to-site' }), 1);
  assert.equal(only(text, 'vpn_tunnel_up', { tunnel: 'rw-eap', kind: 'remote-access' }), 1);
  assert.equal(only(text, 'vpn_tunnel_up', { tunnel: 'site-b', kind: 'site-to-site' }), 0);
  const expectedState = { 'site-a': 'up', 'rw-eap': 'up', 'site-b': 'down', parked: 'ignored' };
  for (const [tunnel, state] of Object.entries(expectedState)) {
    const series = matching(text, 'vpn_tunnel_state', { tunnel });
    assert.equal(series.length, TUNNEL_STATES.length, `${tunnel}: one vpn_tunnel_state series per state\n${text}`);
    for (const s of series) assert.equal(s.value, s.labels.state === state ? 1 : 0, `${tunnel} ${s.labels.state}`);
  }
  // auto=ignore: reported as such, but never as a tunnel that is down.
  assert.deepEqual(matching(text, 'vpn_tunnel_up', { tunnel: 'parked' }), []);
  // charon never hears of `parked` (auto=ignore), and it lives only in the included file: the exporter can know
  // it only by following the include over SSH. site-b is in that file too, and charon has loaded it.
  assert.ok(!beforeView.text.includes('parked'), beforeView.text);
  assert.ok(beforeView.loaded.has('site-b'), beforeView.text);
  const mainConf = await runInNs(lab.gatewayNs, 'sh', ['-c', `${lab.gatewaySetup}\ncat /etc/ipsec.conf`]);
  assert.match(mainConf.stdout, /^include \/etc\/ipsec\.d\/policies\/\S+$/m);
  assert.doesNotMatch(mainConf.stdout, /conn (parked|site-b)/);
  // Every conn charon has loaded is a tunnel, and no other besides the ignored one.
  const tunnels = new Set(samples(text, 'vpn_tunnel_sessions').map((s) => s.labels.tunnel));
  assert.deepEqual([...tunnels].sort(), [...beforeView.loaded, 'parked'].sort());

  // Sessions and users.
  assert.equal(only(text, 'vpn_tunnel_sessions', { tunnel: 'rw-eap' }), 2);
  assert.equal(only(text, 'vpn_tunnel_sessions', { tunnel: 'site-a' }), 1);
  assert.equal(only(text, 'vpn_tunnel_sessions', { tunnel: 'site-b' }), 0);
  for (const user of ['alice', 'bob']) {
    assert.equal(beforeView.eapUsers.get(`rw-eap/${user}`), 1, beforeView.text);
    assert.equal(only(text, 'vpn_user_sessions', { tunnel: 'rw-eap', user }), 1, user);
  }
  assert.equal(matching(text, 'vpn_user_sessions', { tunnel: 'rw-eap' }).length, 2, text);

  // The daemon's own version.
  assert.equal(beforeView.version, afterView.version);
  const info = samples(text, 'vpn_info');
  assert.equal(info.length, 1, text);
  assert.equal(info[0]?.labels.version, beforeView.version);
  assert.equal(info[0]?.labels.vendor, 'strongswan');
  const hostname = (await runInNs(lab.gatewayNs, 'uname', ['-n'])).stdout.trim();
  assert.equal(info[0]?.labels.hostname, hostname);

  // Counters lie between the two direct readings; the round trip in between moved both directions.
  const low = beforeView.traffic.get('site-a');
  const high = afterView.traffic.get('site-a');
  assert.ok(low && high, afterView.text);
  assert.ok(high.bytesIn > low.bytesIn && high.bytesOut > low.bytesOut, afterView.text);
  const exported = {
    bytesIn: only(text, 'vpn_tunnel_receive_bytes_total', { tunnel: 'site-a' }),
    bytesOut: only(text, 'vpn_tunnel_transmit_bytes_total', { tunnel: 'site-a' }),
    packetsIn: only(text, 'vpn_tunnel_receive_packets_total', { tunnel: 'site-a' }),
    packetsOut: only(text, 'vpn_tunnel_transmit_packets_total', { tunnel: 'site-a' }),
  };
  for (const k of ['bytesIn', 'bytesOut', 'packetsIn', 'packetsOut'] as const) {
    assertBetween(`site-a ${k}`, exported[k], low[k], high[k]);
  }
  // The round trip happened before the probe: the probe must already count it.
  assert.ok(exported.bytesIn > low.bytesIn && exported.bytesOut > low.bytesOut, JSON.stringify({ low, exported }));
  for (const user of ['alice', 'bob']) {
    const lowU = beforeView.traffic.get(`rw-eap/${user}`);
    const highU = afterView.traffic.get(`rw-eap/${user}`);
    assert.ok(lowU && highU, afterView.text);
    assertBetween(`${user} bytes in`, only(text, 'vpn_user_receive_bytes_total', { tunnel: 'rw-eap', user }), lowU.bytesIn, highU.bytesIn);
    assertBetween(`${user} bytes out`, only(text, 'vpn_user_transmit_bytes_total', { tunnel: 'rw-eap', user }), lowU.bytesOut, highU.bytesOut);
  }
});

test('keeps the passthrough and drop conns out of the tunnels and reports them as shunts', async () => {
  const view = await gatewayView();
  const text = await probe('stroke');
  assert.deepEqual(
    [...view.shunts].sort(),
    [
      [SHUNTS.pass.stroke, 'PASS'],
      [SHUNTS.drop.stroke, 'DROP'],
    ].sort(),
    `statusall shows the lab's shunt conns:\n${view.text}`,
  );
  for (const conn of view.shunts.keys()) {
    for (const family of ['vpn_tunnel_up', 'vpn_tunnel_state', 'vpn_tunnel_sessions', 'vpn_tunnel_child_up']) {
      assert.deepEqual(matching(text, family, { tunnel: conn }), [], `${conn} is no tunnel in ${family}`);
    }
  }
  assert.equal(only(text, 'vpn_shunts', { mode: 'pass' }), 1, text);
  assert.equal(only(text, 'vpn_shunts', { mode: 'drop' }), 1, text);
  assert.equal(only(text, 'strongswan_shunt_info', { conn: SHUNTS.pass.stroke, child: SHUNTS.pass.stroke, mode: 'pass' }), 1);
  assert.equal(only(text, 'strongswan_shunt_info', { conn: SHUNTS.drop.stroke, child: SHUNTS.drop.stroke, mode: 'drop' }), 1);
});

test("reports each certificate's expiry and the CRL's next update as ipsec listcerts/listcacerts/listcrls and openssl show them", async () => {
  const text = await probe('stroke');
  const listing = (
    await Promise.all(
      [
        ['listcerts', '--utc'],
        ['listcacerts', '--utc'],
        ['listcrls', '--utc'],
      ].map((a) => lab.ipsec(a)),
    )
  ).join('\n');
  assertCertificates(text, listing, lab.pki);
});

test('the probe answer passes `promtool check metrics`', async () => {
  const text = await probe('stroke');
  assert.equal(sampleValue(text, 'probe_success'), 1, text);
  const r = await run('promtool', ['check', 'metrics'], { input: text, okExitCodes: [0, 1, 3] });
  assert.equal(r.code, 0, `promtool check metrics exit ${r.code}:\n${r.stdout}${r.stderr}`);
});

test('emits every vpn_ metric the VICI prober emits for the same kinds of tunnels, and every core one', async () => {
  const stroke = metricNames(await probe('stroke'), 'vpn_');
  const viciText = await probe('vici', { target: `127.0.0.1:${vici.port}` });
  assert.equal(sampleValue(viciText, 'probe_success'), 1, viciText);
  const viaVici = metricNames(viciText, 'vpn_');
  assert.ok(viaVici.has('vpn_user_sessions') && viaVici.has('vpn_pool_size'), [...viaVici].join(' '));
  assert.deepEqual(
    [...viaVici].filter((n) => !stroke.has(n)),
    [],
    `stroke emits ${[...stroke].join(' ')}`,
  );
  // And the whole core family (a strongSwan gateway with pools and users fills all of it).
  const core = readFileSync(new URL('../../src/exposition/core.ts', import.meta.url), 'utf8');
  const coreNames = new Set([...core.matchAll(/'(vpn_[a-z_]+)'/g)].map((m) => m[1] ?? ''));
  assert.ok(coreNames.size >= 15, `expected the core family's names in core.ts, found ${[...coreNames].join(' ')}`);
  // vpn_users_overflow exists only on modules with max_users, which this one has not.
  const onlyWithOptions = new Set(['vpn_users_overflow']);
  assert.deepEqual(
    [...coreNames].filter((n) => !stroke.has(n) && !onlyWithOptions.has(n)),
    [],
  );
});

test('two consecutive probes cost at most one SSH handshake', async () => {
  const first = await handshakes();
  assert.equal(sampleValue(await probe('stroke'), 'probe_success'), 1);
  assert.equal(sampleValue(await probe('stroke'), 'probe_success'), 1);
  const second = await handshakes();
  assert.ok(second - first <= 1, `handshakes went from ${first} to ${second}`);
});

test('a host key other than the pinned one is refused, naming the presented fingerprint', async () => {
  assert.notEqual(sshd.otherKeyFingerprint, sshd.hostKeyFingerprint);
  const text = await probe('stroke_pinned', { debug: true });
  assert.equal(sampleValue(text, 'probe_success'), 0, text);
  assert.ok(text.includes(`presented ${sshd.hostKeyFingerprint}`), text);
  assert.doesNotMatch(text, /^vpn_/m);
  // The refusal is about this module only: the trusting module still works on the same target.
  assert.equal(sampleValue(await probe('stroke'), 'probe_success'), 1);
});

test('a crashed charon fails the probe with the reason, the exporter keeps serving, a restart recovers', { timeout: 90_000 }, async () => {
  assert.equal(sampleValue(await probe('stroke'), 'probe_success'), 1);
  await lab.killCharon();
  const direct = await lab.ipsec(['statusall']).then(
    (out) => assert.fail(`ipsec statusall succeeded with charon killed:\n${out}`),
    (err: unknown) => String(err),
  );
  assert.match(direct, /charon\.ctl/);
  const down = await probe('stroke', { debug: true });
  assert.equal(sampleValue(down, 'probe_success'), 0, down);
  assert.match(down, /reason="ipsec statusall failed \(exit [1-9]\d*\): connecting to 'unix:\/\/\/var\/run\/charon\.ctl' failed/, down);
  assert.doesNotMatch(down, /^vpn_tunnel/m);
  const metrics = await exporter.get('/metrics');
  assert.equal(metrics.status, 200);
  await metrics.text();

  await lab.startCharon();
  const up = await probe('stroke');
  assert.equal(sampleValue(up, 'probe_success'), 1, up);
  assert.equal(only(up, 'vpn_tunnel_sessions', { tunnel: 'rw-eap' }), 2);
  assert.equal(only(up, 'vpn_tunnel_up', { tunnel: 'site-a', kind: 'site-to-site' }), 1);
});

test('sshd dying under an idle pooled connection fails the next probe; its return needs no exporter restart', { timeout: 60_000 }, async () => {
  assert.equal(sampleValue(await probe('stroke'), 'probe_success'), 1);
  const pooled = await handshakes();
  await sshd.kill();
  const down = await probe('stroke', { debug: true });
  assert.equal(sampleValue(down, 'probe_success'), 0, down);
  // The pooled connection is found dead, one reconnect is tried, and that one finds no sshd.
  assert.match(down, /reason="ssh connection to 127\.0\.0\.1:\d+ failed: /, down);
  assert.doesNotMatch(down, /^vpn_tunnel/m);
  await sshd.start();
  const up = await probe('stroke', { debug: true });
  assert.equal(sampleValue(up, 'probe_success'), 1, up);
  assert.equal(only(up, 'vpn_tunnel_sessions', { tunnel: 'rw-eap' }), 2);
  assert.ok((await handshakes()) > pooled, 'a new SSH connection was made');
});
