// The wireguard-ssh prober end to end: real wireguard-go interfaces with real handshakes, a real
// sshd (as root, and as an account that may run exactly the prober's commands through sudo -n).
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '../../src/log/logger.js';
import { CapturingProbeLog } from '../../src/log/probe-log.js';
import { createHttpsTransport } from '../../src/transport/https/client.js';
import { createSshTransport } from '../../src/transport/ssh/transport.js';
import type { SshTransport } from '../../src/transport/ssh/types.js';
import { wireguardSsh } from '../../src/vendors/wireguard/ssh.js';
import { samples } from '../support/exposition.js';
import { sampleValue, startTestExporter, type TestExporter } from '../support/exporter.js';
import { startWireguardLab, ROOT_USER, SUDO_USER, type WireguardLab } from './support/wireguard-lab.js';

/** Keepalives and pings move counters between the probe and our own `wg show`. */
const BYTES_TOLERANCE = 4096;

let lab: WireguardLab;
let exporter: TestExporter;
const answers: string[] = [];

const q = (s: string) => JSON.stringify(s);

function moduleYaml(name: string, login: 'root' | 'sudo', extra: string[] = []): string {
  const sshd = login === 'root' ? lab.rootSshd : lab.sudoSshd;
  return [
    `  ${name}:`,
    '    prober: wireguard-ssh',
    '    timeout: 10s',
    '    ssh:',
    `      username: ${login === 'root' ? ROOT_USER : SUDO_USER}`,
    `      private_key: {file: ${q(sshd.privateKeyFile)}}`,
    `      known_hosts: ${q(lab.knownHostsFile)}`,
    ...(login === 'sudo' ? ['    command_prefix: sudo -n'] : []),
    `    config_dir: ${q(lab.configDir)}`,
    '    peer_names:',
    `      ${q(lab.publicKeys.carol)}: carol`,
    ...extra.map((l) => `    ${l}`),
  ].join('\n');
}

async function probe(module: string, target: string, debug = false): Promise<string> {
  const res = await exporter.get(`/probe?module=${module}&target=${target}${debug ? '&debug=true' : ''}`);
  const text = await res.text();
  answers.push(text);
  assert.equal(res.status, 200, text);
  return text;
}

function only(text: string, name: string, match: Record<string, string>): number {
  const found = samples(text, name).filter((s) => Object.entries(match).every(([k, v]) => s.labels[k] === v));
  assert.equal(found.length, 1, `exactly one ${name}${JSON.stringify(match)} in:\n${text}`);
  return found[0]?.value ?? NaN;
}

interface DaemonPeer {
  publicKey: string;
  allowedIps: string[];
  latestHandshake?: number;
  rxBytes: number;
  txBytes: number;
}

/** What wg itself says in the gateway namespace, from its raw dump, read here independently of the prober's filter and parser. */
async function daemonView(): Promise<{ name: string; listenPort: number; peers: DaemonPeer[] }[]> {
  const ifaces = new Map<string, { name: string; listenPort: number; peers: DaemonPeer[] }>();
  for (const line of (await lab.wgDump()).split('\n').filter(Boolean)) {
    const f = line.split('\t');
    if (f.length === 5) ifaces.set(f[0] as string, { name: f[0] as string, listenPort: Number(f[3]), peers: [] });
    else if (f.length === 9) {
      const hs = Number(f[5]);
      ifaces.get(f[0] as string)?.peers.push({
        publicKey: f[1] as string,
        allowedIps: f[4] === '(none)' ? [] : (f[4] as string).split(','),
        latestHandshake: hs === 0 ? undefined : hs,
        rxBytes: Number(f[6]),
        txBytes: Number(f[7]),
      });
    } else assert.fail(`a dump line of ${f.length} fields`);
  }
  return [...ifaces.values()];
}

before(async () => {
  lab = await startWireguardLab();
  exporter = await startTestExporter(
    [
      'modules:',
      moduleYaml('wg_root', 'root'),
      moduleYaml('wg_sudo', 'sudo'),
      moduleYaml('wg_noconfig', 'root', ['read_config: false']),
      moduleYaml('wg_strict', 'root', ['connected_within: 1ms']),
      '',
    ].join('\n'),
  );
});

after(async () => {
  await exporter?.close();
  await lab?.stop();
});

for (const login of ['root', 'sudo'] as const) {
  test(`as ${login}: every interface, peer and user as wg show sees it at the same moment`, async () => {
    const target = login === 'root' ? lab.rootTarget : lab.sudoTarget;
    const text = await probe(login === 'root' ? 'wg_root' : 'wg_sudo', target);
    const view = await daemonView();
    assert.equal(sampleValue(text, 'probe_success'), 1, text);
    assert.equal(samples(text, 'vpn_info')[0]?.labels.vendor, 'wireguard');
    assert.deepEqual(view.map((i) => i.name).sort(), ['wg0', 'wg1']);
    const names: Record<string, string> = {
      [lab.publicKeys.alice]: 'alice',
      [lab.publicKeys.bob]: 'bob',
      [lab.publicKeys.carol]: 'carol',
      [lab.publicKeys.ghost]: lab.publicKeys.ghost.slice(0, 8),
    };
    for (const iface of view) {
      assert.equal(only(text, 'vpn_tunnel_up', { tunnel: iface.name }), 1);
      assert.equal(only(text, 'wireguard_interface_listen_port', { interface: iface.name }), iface.listenPort);
      assert.equal(only(text, 'wireguard_interface_peers', { interface: iface.name }), iface.peers.length);
      const live = iface.peers.filter((p) => p.latestHandshake !== undefined);
      assert.equal(only(text, 'vpn_tunnel_sessions', { tunnel: iface.name }), live.length);
      for (const p of iface.peers) {
        const peer = names[p.publicKey];
        assert.ok(peer, `a peer of the lab: ${p.publicKey}`);
        const labels = { interface: iface.name, peer };
        assert.equal(only(text, 'wireguard_peer_allowed_ips', labels), p.allowedIps.length);
        if (p.latestHandshake === undefined) {
          assert.equal(only(text, 'wireguard_peer_connected', labels), 0);
          assert.equal(samples(text, 'wireguard_peer_latest_handshake_timestamp_seconds').filter((s) => s.labels.peer === peer).length, 0);
          assert.equal(samples(text, 'vpn_user_sessions').filter((s) => s.labels.user === peer).length, 0);
          continue;
        }
        assert.equal(only(text, 'wireguard_peer_connected', labels), 1);
        assert.equal(only(text, 'vpn_user_sessions', { tunnel: iface.name, user: peer }), 1);
        const hs = only(text, 'wireguard_peer_latest_handshake_timestamp_seconds', labels);
        // A rekey between the probe and our look only moves the handshake forward.
        assert.ok(hs <= p.latestHandshake && p.latestHandshake - hs <= 180, `${peer}: exported ${hs}, wg ${p.latestHandshake}`);
        for (const [series, daemon] of [
          ['vpn_user_receive_bytes_total', p.rxBytes ?? 0],
          ['vpn_user_transmit_bytes_total', p.txBytes ?? 0],
        ] as const) {
          const exported = only(text, series, { tunnel: iface.name, user: peer });
          assert.ok(exported > 0 && daemon >= exported && daemon - exported <= BYTES_TOLERANCE, `${series} ${peer}: exported ${exported}, wg ${daemon}`);
        }
      }
    }
    assert.equal(only(text, 'wireguard_peer_persistent_keepalive_seconds', { interface: 'wg0', peer: 'bob' }), 15);
    for (const key of Object.values(lab.publicKeys)) assert.ok(!text.includes(key), 'no key in the exposition');
  });
}

test('keys, endpoints and allowed IPs go to /sessions and /api/probe, a peer with two allowed IPs is one session', async () => {
  const res = await exporter.get(`/sessions?module=wg_root&target=${lab.rootTarget}`);
  assert.equal(res.status, 200);
  const rows = (await res.json()) as { tunnel: string; user: string; uniqueid: string; remotehost: string; virtualAddresses: string[] }[];
  assert.deepEqual(rows.map((r) => [r.tunnel, r.user]).sort(), [
    ['wg0', 'alice'],
    ['wg0', 'bob'],
    ['wg1', 'carol'],
  ]);
  const alice = rows.find((r) => r.user === 'alice');
  assert.equal(alice?.uniqueid, lab.publicKeys.alice);
  assert.equal(alice?.remotehost, '192.0.2.2');
  assert.deepEqual(alice?.virtualAddresses, ['198.51.100.2/32', '203.0.113.16/28']);
  const api = await (await exporter.get(`/api/probe?module=wg_root&target=${lab.rootTarget}`)).text();
  assert.ok(api.includes(lab.publicKeys.ghost) && api.includes(lab.publicKeys.wg0), 'every peer and interface key in /api/probe');
  answers.push(api);
});

test("without the config files names fall back to the module map, then to the key's first 8 characters", async () => {
  const text = await probe('wg_noconfig', lab.rootTarget);
  assert.equal(sampleValue(text, 'probe_success'), 1, text);
  const users = samples(text, 'vpn_user_sessions')
    .map((s) => s.labels.user)
    .sort();
  assert.deepEqual(users, ['carol', lab.publicKeys.alice.slice(0, 8), lab.publicKeys.bob.slice(0, 8)].sort());
});

test('connected_within decides what is a live session', async () => {
  const text = await probe('wg_strict', lab.rootTarget);
  assert.equal(sampleValue(text, 'probe_success'), 1, text);
  assert.deepEqual(
    samples(text, 'vpn_tunnel_sessions').map((s) => s.value),
    [0, 0],
  );
  assert.deepEqual(samples(text, 'vpn_user_sessions'), []);
  assert.equal(samples(text, 'wireguard_peer_latest_handshake_timestamp_seconds').length, 3);
});

describe("the gateway's private and preshared keys", () => {
  test('reach the exporter in no byte the SSH channel delivers, as root or through sudo', async () => {
    const sinkLines: string[] = [];
    const logger = createLogger(
      'debug',
      'logfmt',
      new Writable({
        write: (c: Buffer, _e, cb) => {
          sinkLines.push(c.toString());
          cb();
        },
      }),
    );
    const inner = createSshTransport({ logger, idleTimeoutMs: 5_000 });
    const commands: string[] = [];
    const received: string[] = [];
    const recording: SshTransport = {
      exec: async (endpoint, command, opts) => {
        commands.push(command);
        const r = await inner.exec(endpoint, command, opts);
        received.push(r.stdout, r.stderr);
        return r;
      },
      openShell: (e, o) => inner.openShell(e, o),
      // Unused by wireguard-ssh; a call would show up as a test failure, not as unrecorded bytes.
      openStreamLocal: () => Promise.reject(new Error('wireguard-ssh opens no stream-local channel')),
      execStream: () => Promise.reject(new Error('wireguard-ssh uses exec, not execStream')),
      stats: () => inner.stats(),
      close: () => inner.close(),
    };
    try {
      for (const login of ['root', 'sudo'] as const) {
        const sshd = login === 'root' ? lab.rootSshd : lab.sudoSshd;
        const [host, port] = (login === 'root' ? lab.rootTarget : lab.sudoTarget).split(':');
        const options = wireguardSsh.optionsSchema.parse({
          ssh: { username: login === 'root' ? ROOT_USER : SUDO_USER, private_key: { file: sshd.privateKeyFile }, known_hosts: lab.knownHostsFile },
          command_prefix: login === 'sudo' ? 'sudo -n' : '',
          config_dir: lab.configDir,
        });
        const log = new CapturingProbeLog(undefined);
        const snapshot = await wireguardSsh.probe({
          target: { host: host as string, port: Number(port), raw: `${host}:${port}` },
          options,
          signal: AbortSignal.timeout(10_000),
          log,
          services: { ssh: recording, https: createHttpsTransport() },
        });
        // The config files were read (through sudo for the second login): names came from them.
        const users = snapshot.sessions.map((s) => s.user).sort();
        assert.deepEqual(users, [lab.publicKeys.carol.slice(0, 8), 'alice', 'bob'].sort(), login);
      }
    } finally {
      await recording.close();
    }
    assert.equal(commands.length, 2);
    // wg's dump holds every key; the probe read it, so only the filter on the gateway kept them back.
    for (const c of commands) assert.match(c, /wg show all dump/);
    const raw = await lab.wgDump();
    // Both interfaces' private keys and bob's preshared key are in wg's own dump: the filter is what is tested.
    assert.equal(lab.gatewaySecrets.filter((secret) => raw.includes(secret)).length, 3, 'the secrets are in the raw dump');
    const bytes = received.join('\n');
    assert.ok(
      bytes.includes(lab.publicKeys.alice) && bytes.includes(lab.publicKeys.bob) && bytes.includes('# Name = alice'),
      'the probe did receive keys and names',
    );
    const everything = [bytes, ...answers, ...exporter.logs, ...sinkLines].join('\n');
    for (const secret of lab.gatewaySecrets) {
      // Not the key, and no 10-character run of it (a key cut or split is still a leak).
      for (let i = 0; i + 10 <= secret.length; i++)
        assert.ok(!everything.includes(secret.slice(i, i + 10)), 'bytes of a private or preshared key left the gateway');
    }
  });
});
