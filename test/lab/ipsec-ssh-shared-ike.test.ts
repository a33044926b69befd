// Two conns to one peer sharing one IKE_SA with real charons on both ends (support/shared-ike-scenario.ts):
// the stroke gateway lists site-a-2's CHILD_SA under the IKE_SA named site-a, the swanctl peer lists net-a2
// (conn site-a2) under its IKE_SA site-a. The ipsec-ssh prober (gateway) and the strongswan-vici-tcp prober
// (peer) must both report that conn up, without a second session, checked against `ipsec statusall` and
// `swanctl --list-sas` read directly around the probes.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { matching } from '../support/exposition.js';
import { sampleValue, startTestExporter, type TestExporter } from '../support/exporter.js';
import { forwardPortFromNs, runInNs } from './support/netns.js';
import { NET2, shareSiteAIkeSa } from './support/shared-ike-scenario.js';
import { startGatewaySshd, type GatewaySshd } from './support/stroke-ssh-lab.js';
import { startStrokeLab, type StrokeLab } from './support/strongswan-lab.js';
import { PLAN } from './support/strongswan-config.js';

let lab: StrokeLab;
let sshd: GatewaySshd;
let exporter: TestExporter;
let peerViciTarget: string;
let stopForward: (() => Promise<void>) | undefined;

before(async () => {
  lab = await startStrokeLab();
  sshd = await startGatewaySshd(lab);

  await shareSiteAIkeSa(lab);

  const fwd = await forwardPortFromNs(lab.siteAVici.ns, { host: lab.siteAVici.host, port: lab.siteAVici.port }, join(lab.dir, 'peer-vici-forward.log'));
  stopForward = () => fwd.daemon.stop();
  peerViciTarget = `127.0.0.1:${fwd.port}`;

  const login = `    ssh:\n      username: ${sshd.user}\n      private_key: {file: ${JSON.stringify(sshd.privateKeyFile)}}\n      known_hosts: ${JSON.stringify(sshd.knownHostsFile)}\n`;
  exporter = await startTestExporter(
    ['modules:', `  stroke:\n    prober: ipsec-ssh\n    timeout: 10s\n${login}`, '  vici:\n    prober: strongswan-vici-tcp\n    timeout: 5s\n', ''].join('\n'),
  );
});

after(async () => {
  await exporter?.close();
  await stopForward?.();
  await sshd?.stop();
  await lab?.stop();
});

async function probe(module: string, target: string): Promise<string> {
  const res = await exporter.get(`/probe?module=${module}&target=${target}`);
  const text = await res.text();
  assert.equal(res.status, 200, text);
  assert.equal(sampleValue(text, 'probe_success'), 1, text);
  return text;
}

function only(text: string, name: string, match: Record<string, string>): number {
  const found = matching(text, name, match);
  assert.equal(found.length, 1, `exactly one ${name}${JSON.stringify(match)} in:\n${text}`);
  return found[0]?.value ?? Number.NaN;
}

/** A TCP round trip from the peer's second subnet to a closed port in the gateway's: "refused" came back through the tunnel. */
async function trafficThroughNet2(): Promise<void> {
  const r = await runInNs(lab.siteAVici.ns, 'socat', ['-u', 'OPEN:/dev/null', `TCP:${NET2.gwHost}:9,bind=${NET2.peerHost},connect-timeout=2`], {
    okExitCodes: [0, 1],
  });
  assert.match(r.stderr, /refused/i, 'the round trip through site-a-2 did not come back');
}

interface StrokeSas {
  /** IKE_SA lines as "conn[id] STATE". */
  ike: string[];
  /** INSTALLED CHILD_SA name → the IKE_SA ("conn[id]") it is listed under. */
  childUnder: Map<string, string>;
  /** bytes_i of each INSTALLED CHILD_SA by name. */
  bytesIn: Map<string, number>;
  /** Conns with a main line in "Connections:", and names that appear there only as a child line. */
  mainLines: Set<string>;
  childLines: Set<string>;
  text: string;
}

/** `ipsec statusall` on the gateway, read here independently of the prober's parser. */
async function strokeView(): Promise<StrokeSas> {
  const text = await lab.ipsec(['statusall']);
  const [conns = '', sas = ''] = text.split(/^Connections:$/m)[1]?.split(/^Security Associations .*$/m) ?? [];
  const view: StrokeSas = { ike: [], childUnder: new Map(), bytesIn: new Map(), mainLines: new Set(), childLines: new Set(), text };
  for (const m of conns.matchAll(/^\s+(\S+): {2}\S*\.\.\.\S* {2}IKE/gm)) view.mainLines.add(m[1] ?? '');
  for (const m of conns.matchAll(/^\s+(\S+): {3}child: /gm)) view.childLines.add(m[1] ?? '');
  let ike = '';
  for (const line of sas.split('\n')) {
    const i = /^\s+(\S+\[\d+\]): ([A-Z_]+)(?: \d|,)/.exec(line);
    if (i) {
      ike = i[1] ?? '';
      view.ike.push(`${ike} ${i[2]}`);
      continue;
    }
    const c = /^\s+(\S+)\{\d+\}: {2}INSTALLED,/.exec(line);
    if (c) view.childUnder.set(c[1] ?? '', ike);
    const b = /^\s+(\S+)\{\d+\}: {2}\S.*?, (\d+) bytes_i/.exec(line);
    if (b) view.bytesIn.set(b[1] ?? '', Number(b[2]));
  }
  return view;
}

test("over stroke, a conn whose CHILD_SA rides another conn's IKE_SA is up, with no session of its own", async () => {
  await trafficThroughNet2();
  const before = await strokeView();
  const text = await probe('stroke', sshd.target);
  const after = await strokeView();

  for (const view of [before, after]) {
    // The layout this is about: one IKE_SA to the peer, named site-a, listing site-a-2's CHILD_SA under it;
    // site-a-2 and site-a-3 appear in "Connections:" only as child lines under site-a's main line.
    assert.deepEqual(
      view.ike.filter((l) => l.startsWith('site-a')),
      [view.ike.find((l) => /^site-a\[\d+\] ESTABLISHED$/.test(l))],
      view.text,
    );
    assert.match(view.childUnder.get('site-a') ?? '', /^site-a\[\d+\]$/, view.text);
    assert.equal(view.childUnder.get('site-a-2'), view.childUnder.get('site-a'), view.text);
    assert.ok(!view.childUnder.has('site-a-3'), view.text);
    assert.ok(view.mainLines.has('site-a') && !view.mainLines.has('site-a-2') && !view.mainLines.has('site-a-3'), view.text);
    assert.ok(view.childLines.has('site-a-2') && view.childLines.has('site-a-3'), view.text);
  }

  assert.equal(only(text, 'vpn_tunnel_up', { tunnel: 'site-a' }), 1);
  assert.equal(only(text, 'vpn_tunnel_up', { tunnel: 'site-a-2', kind: 'site-to-site' }), 1);
  assert.equal(only(text, 'vpn_tunnel_up', { tunnel: 'site-a-3' }), 0);
  assert.equal(only(text, 'vpn_tunnel_child_up', { tunnel: 'site-a-2', child: 'site-a-2' }), 1);
  assert.deepEqual(
    matching(text, 'vpn_tunnel_child_up', { tunnel: 'site-a' }).map((s) => s.labels.child),
    ['site-a'],
    'site-a-2 is not a child of site-a',
  );
  // One IKE_SA: one session and one user, under the conn whose name it carries.
  assert.equal(only(text, 'vpn_tunnel_sessions', { tunnel: 'site-a' }), 1);
  assert.equal(only(text, 'vpn_tunnel_sessions', { tunnel: 'site-a-2' }), 0);
  assert.equal(only(text, 'vpn_tunnel_sessions', { tunnel: 'site-a-3' }), 0);
  assert.deepEqual(
    matching(text, 'vpn_user_sessions', {})
      .map((s) => [s.labels.tunnel, s.labels.user, s.value])
      .filter(([t]) => String(t).startsWith('site-a')),
    [['site-a', PLAN.ids.siteA, 1]],
  );
  // site-a-2's bytes are its own CHILD_SA's, between the two direct readings.
  const exported = only(text, 'vpn_tunnel_receive_bytes_total', { tunnel: 'site-a-2' });
  const [low = -1, high = -1] = [before.bytesIn.get('site-a-2'), after.bytesIn.get('site-a-2')];
  assert.ok(low > 0 && low <= exported && exported <= high, `site-a-2 bytes in: exported ${exported}, gateway said ${low} and ${high}`);
});

test('over VICI (the peer), the same conn is up under the shared IKE_SA, as `swanctl --list-sas` shows it', async () => {
  const listed = async () => lab.siteASwanctl(['--list-sas']);
  const before = await listed();
  const text = await probe('vici', peerViciTarget);
  const after = await listed();

  for (const view of [before, after]) {
    // One IKE_SA block, named site-a, holding both children; no IKE_SA named site-a2.
    const blocks = view.split(/^(?=\S)/m);
    const siteA = blocks.filter((b) => b.startsWith('site-a: #'));
    assert.equal(siteA.length, 1, view);
    assert.match(siteA[0] ?? '', /^ {2}net-a: #\d+, reqid \d+, INSTALLED/m, view);
    assert.match(siteA[0] ?? '', /^ {2}net-a2: #\d+, reqid \d+, INSTALLED/m, view);
    assert.ok(!blocks.some((b) => b.startsWith('site-a2:')), view);
  }

  assert.equal(only(text, 'vpn_tunnel_up', { tunnel: 'site-a' }), 1);
  assert.equal(only(text, 'vpn_tunnel_up', { tunnel: 'site-a2', kind: 'site-to-site' }), 1);
  assert.equal(only(text, 'vpn_tunnel_child_up', { tunnel: 'site-a2', child: 'net-a2' }), 1);
  assert.equal(only(text, 'vpn_tunnel_sessions', { tunnel: 'site-a' }), 1);
  assert.equal(only(text, 'vpn_tunnel_sessions', { tunnel: 'site-a2' }), 0);
  assert.equal(matching(text, 'vpn_user_sessions', {}).length, 1, text);
});
