// The openvpn-ssh prober end to end: real OpenVPN servers and clients, a real sshd, the exporter in-process.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import ssh2 from 'ssh2';
import { CapturingProbeLog } from '../../src/log/probe-log.js';
import { openvpnSsh } from '../../src/vendors/openvpn/ssh.js';
import { matching, samples } from '../support/exposition.js';
import { parseOpenvpnStatus, type OpenvpnServerStatus } from '../../src/vendors/openvpn/status.js';
import { fingerprintOf } from '../../src/transport/ssh/host-key.js';
import { sampleValue, startTestExporter, type TestExporter } from '../support/exporter.js';
import { waitFor } from '../support/wait-for.js';
import { run } from './support/netns.js';
import { assertLabCertificates, opensslTime, recordingSshTransport } from './support/recording-ssh.js';
import { SERVER_NAMES, startOpenvpnLab, type OpenvpnLab, type ServerName } from './support/openvpn-lab.js';
import { escapeRegExp } from '../support/regexp.js';
import { createHttpsTransport } from '../../src/transport/https/client.js';

const FORMAT: Record<ServerName, string> = { udp: 'v3', tcp: 'v2', v1: 'v1' };
/** Keepalive pings move the counters between the status file's last rewrite and the management answer. */
const BYTES_TOLERANCE = 4096;

let lab: OpenvpnLab;
let exporter: TestExporter;
/** Everything the exporter answered, for the secrets check at the end. */
const answers: string[] = [];

function modulesYaml(): string {
  const q = (s: string) => JSON.stringify(s);
  const otherKey = ssh2.utils.generateKeyPairSync('ed25519').public.split(' ')[1] ?? '';
  const login = (hostKey: string) => `    ssh:\n      username: ${lab.sshUser}\n      private_key: {file: ${q(lab.privateKeyFile)}}\n      ${hostKey}\n`;
  const trusted = login(`known_hosts: ${q(lab.knownHostsFile)}`);
  const files = (list: [string, string][]) => `    status_files:\n${list.map(([name, path]) => `      - {name: ${name}, path: ${q(path)}}\n`).join('')}`;
  const all = files(SERVER_NAMES.map((s) => [s, lab.statusFiles[s]]));
  const configs = `    config_files: [${SERVER_NAMES.map((s) => q(lab.configFiles[s])).join(', ')}]\n`;
  return [
    'modules:',
    `  ovpn:\n    prober: openvpn-ssh\n    timeout: 10s\n${trusted}${all}${configs}`,
    `  ovpn_nocerts:\n    prober: openvpn-ssh\n    timeout: 10s\n    certificates: false\n${trusted}${all}${configs}`,
    `  ovpn_fresh:\n    prober: openvpn-ssh\n    timeout: 10s\n    max_status_age: 3s\n${trusted}${all}`,
    `  ovpn_v1only:\n    prober: openvpn-ssh\n    timeout: 10s\n${trusted}${files([['v1', lab.statusFiles.v1]])}`,
    `  ovpn_missing:\n    prober: openvpn-ssh\n    timeout: 10s\n${trusted}${files([['gone', missingPath()]])}`,
    `  ovpn_denied:\n    prober: openvpn-ssh\n    timeout: 10s\n${trusted}${files([['private', deniedPath()]])}`,
    '  ovpn_pinned:\n    prober: openvpn-ssh\n    timeout: 10s\n' +
      login(`host_key_fingerprints: [${q(fingerprintOf(Buffer.from(otherKey, 'base64')))}]`) +
      all,
    '',
  ].join('\n');
}

const missingPath = () => join(lab.dir, 'status', 'no-such-server.status');
const deniedPath = () => join(lab.dir, 'status', 'root-only.status');

async function probe(module: string, debug = false): Promise<string> {
  const res = await exporter.get(`/probe?module=${module}&target=${lab.target}${debug ? '&debug=true' : ''}`);
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

async function daemonView(server: ServerName): Promise<OpenvpnServerStatus> {
  const status = parseOpenvpnStatus(await lab.management(server, 'status 2'));
  assert.notEqual(status.format, 'client');
  return status as OpenvpnServerStatus;
}

async function handshakes(): Promise<number> {
  const text = await (await exporter.get('/metrics')).text();
  return sampleValue(text, 'vpn_exporter_ssh_handshakes_total') ?? NaN;
}

async function probeUntil(module: string, what: string, ok: (debugText: string) => boolean): Promise<string> {
  let last = '';
  return waitFor(
    what,
    async () => {
      last = await probe(module, true);
      return ok(last) && last;
    },
    { timeoutMs: 20_000, intervalMs: 500, describe: () => `--- last debug answer ---\n${last}` },
  );
}

before(async () => {
  lab = await startOpenvpnLab();
  writeFileSync(deniedPath(), 'OpenVPN CLIENT LIST\n', { mode: 0o600 });
  exporter = await startTestExporter(modulesYaml());
});

after(async () => {
  await exporter?.close();
  await lab?.stop();
});

test('reports every server, session and user as the daemons themselves see them', async () => {
  const text = await probe('ovpn');
  assert.equal(sampleValue(text, 'probe_success'), 1, text);
  for (const server of SERVER_NAMES) {
    const view = await daemonView(server);
    assert.equal(only(text, 'vpn_tunnel_sessions', { tunnel: server }), view.clients.length, server);
    assert.equal(only(text, 'openvpn_status_info', { server, path: lab.statusFiles[server], format: FORMAT[server] }), 1);
    for (const [user, sessions] of Object.entries(lab.expectedClients[server])) {
      assert.equal(only(text, 'vpn_user_sessions', { tunnel: server, user }), sessions, `${server}/${user}`);
      const mine = view.clients.filter((c) => c.commonName === user);
      assert.equal(mine.length, sessions, `${server}/${user} in management`);
      for (const [series, daemon] of [
        ['vpn_user_receive_bytes_total', mine.reduce((n, c) => n + c.bytesReceived, 0)],
        ['vpn_user_transmit_bytes_total', mine.reduce((n, c) => n + c.bytesSent, 0)],
      ] as const) {
        const exported = only(text, series, { tunnel: server, user });
        assert.ok(exported > 0, `${series} ${server}/${user} is ${exported}`);
        // The file is at most a few rewrites behind the daemon, and counters only grow.
        assert.ok(daemon >= exported && daemon - exported <= BYTES_TOLERANCE, `${series} ${server}/${user}: exported ${exported}, daemon ${daemon}`);
      }
    }
  }
  assert.equal(samples(text, 'vpn_info')[0]?.labels.version, await installedVersion(), text);
});

test("the version comes from the gateway's `openvpn --version`, also when no status file has a TITLE", async () => {
  const text = await probe('ovpn_v1only');
  assert.equal(sampleValue(text, 'probe_success'), 1, text);
  assert.equal(samples(text, 'vpn_info')[0]?.labels.version, await installedVersion(), text);
});

test('two consecutive probes share one pooled connection', async () => {
  const before = await handshakes();
  assert.equal(sampleValue(await probe('ovpn'), 'probe_success'), 1);
  assert.equal(sampleValue(await probe('ovpn'), 'probe_success'), 1);
  assert.ok((await handshakes()) - before <= 1, `handshakes went from ${before} to ${await handshakes()}`);
});

test('a missing or unreadable status file fails the probe and names the path', async () => {
  const missing = await probe('ovpn_missing', true);
  assert.equal(sampleValue(missing, 'probe_success'), 0, missing);
  assert.match(missing, new RegExp(`status file gone \\(${escapeRegExp(missingPath())}\\) unreadable: .*No such file`));
  const denied = await probe('ovpn_denied', true);
  assert.equal(sampleValue(denied, 'probe_success'), 0, denied);
  assert.match(denied, new RegExp(`status file private \\(${escapeRegExp(deniedPath())}\\) unreadable: .*Permission denied`));
});

test('a host key other than the pinned one is refused, naming the presented fingerprint', async () => {
  const text = await probe('ovpn_pinned', true);
  assert.equal(sampleValue(text, 'probe_success'), 0, text);
  const presented = `presented ${lab.hostKeyFingerprint}`;
  assert.ok(text.includes(presented), text);
  assert.ok(
    exporter.logs.some((l) => l.includes(presented)),
    `the exporter log says "${presented}"`,
  );
  assert.doesNotMatch(text, /^vpn_info/m);
});

test("a killed server's file goes stale past max_status_age, and is fresh again after a restart", { timeout: 60_000 }, async () => {
  await probeUntil('ovpn_fresh', 'ovpn_fresh to succeed while every server runs', (t) => sampleValue(t, 'probe_success') === 1);
  await lab.killServer('tcp');
  const stale = await probeUntil('ovpn_fresh', 'the tcp status file to go stale', (t) => sampleValue(t, 'probe_success') === 0);
  assert.match(stale, new RegExp(`status file tcp \\(${escapeRegExp(lab.statusFiles.tcp)}\\) is stale`), stale);
  // The generous default still accepts the same file: only the configured age decides.
  assert.equal(sampleValue(await probe('ovpn'), 'probe_success'), 1);
  await lab.startServer('tcp');
  await probeUntil('ovpn_fresh', 'ovpn_fresh to succeed after the restart', (t) => sampleValue(t, 'probe_success') === 1);
});

test('sshd dying under an idle pooled connection fails one probe; its return needs no exporter restart', { timeout: 60_000 }, async () => {
  assert.equal(sampleValue(await probe('ovpn'), 'probe_success'), 1);
  await lab.killSshd();
  const down = await probe('ovpn', true);
  assert.equal(sampleValue(down, 'probe_success'), 0, down);
  await lab.startSshd();
  const up = await probe('ovpn');
  assert.equal(sampleValue(up, 'probe_success'), 1, up);
});

test('the private key never appears in probe answers, debug output or exporter logs', async () => {
  await probe('ovpn', true);
  await probe('ovpn_pinned', true);
  const key = readFileSync(lab.privateKeyFile, 'utf8');
  const body = key.split('\n').filter((l) => l.length > 0 && !l.startsWith('-----'));
  assert.ok(body.length > 0);
  const everything = [...answers, ...exporter.logs].join('\n');
  for (const line of body) assert.ok(!everything.includes(line), `a line of the private key leaked`);
  assert.ok(
    answers.some((a) => a.includes(lab.privateKeyFile)),
    "debug output shows the key's file reference instead",
  );
});

test("certificate and CRL expiry from the three servers' configurations, as openssl reads the same files", async () => {
  const text = await probe('ovpn');
  // udp (files), tcp (inline) and v1 (cd, relative, extra-certs) name the same CA and server certificate.
  await assertLabCertificates(text, lab.pki);
  const crlNext = await opensslTime(['crl', '-noout', '-nextupdate', '-in', lab.pki.crl]);
  assert.deepEqual(
    matching(text, 'vpn_crl_next_update_timestamp_seconds', {}).map((s) => [s.labels.issuer, s.value]),
    [['vpnx-lab-ca', crlNext]],
  );
  const off = await probe('ovpn_nocerts');
  assert.equal(sampleValue(off, 'probe_success'), 1, off);
  assert.equal(matching(off, 'vpn_certificate_expiry_timestamp_seconds', {}).length, 0, off);
  assert.equal(matching(off, 'vpn_crl_next_update_timestamp_seconds', {}).length, 0, off);
});

test('no byte of a private or static key reaches the exporter, though every key file is readable', async () => {
  const { transport: recording, received, logLines: sinkLines } = recordingSshTransport();
  const [host, port] = lab.target.split(':');
  try {
    const snapshot = await openvpnSsh.probe({
      target: { host: host as string, port: Number(port), raw: lab.target },
      options: openvpnSsh.optionsSchema.parse({
        ssh: { username: lab.sshUser, private_key: { file: lab.privateKeyFile }, known_hosts: lab.knownHostsFile },
        status_files: SERVER_NAMES.map((name) => ({ name, path: lab.statusFiles[name] })),
        config_files: SERVER_NAMES.map((s) => lab.configFiles[s]),
      }),
      signal: AbortSignal.timeout(10_000),
      log: new CapturingProbeLog(undefined),
      services: { ssh: recording, https: createHttpsTransport() },
    });
    assert.equal(snapshot.certificates?.length, 7, "ca and cert of three servers, and v1's extra-certs");
  } finally {
    await recording.close();
  }
  const bytes = received.join('\n');
  assert.ok(bytes.includes('-----BEGIN CERTIFICATE-----') && bytes.includes('-----BEGIN X509 CRL-----'), 'the probe did receive the public files');
  assert.ok(lab.gatewaySecrets.length >= 4, 'the lab has keys to look for');
  const everything = [bytes, ...answers, ...exporter.logs, ...sinkLines].join('\n');
  for (const secret of lab.gatewaySecrets) assert.ok(!everything.includes(secret), 'a line of a private or static key left the gateway');
});

/** The lab's servers and the gateway's ssh user run this very binary. */
async function installedVersion(): Promise<string> {
  const version = /^OpenVPN (\d+\.\d+\.\d+)/m.exec((await run('openvpn', ['--version'])).stdout)?.[1];
  assert.ok(version, 'openvpn --version names a version');
  return version;
}
