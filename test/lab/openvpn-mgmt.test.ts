// The openvpn-mgmt prober end to end: real OpenVPN servers with real clients, their management
// interfaces on a TEST-NET address with a password file (over TCP) and on a unix socket reached
// through a real sshd's stream-local forwarding; the exporter in-process.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { CapturingProbeLog } from '../../src/log/probe-log.js';
import { createHttpsTransport } from '../../src/transport/https/client.js';
import { openvpnMgmt } from '../../src/vendors/openvpn/mgmt.js';
import { parseOpenvpnStatus, type OpenvpnServerStatus } from '../../src/vendors/openvpn/status.js';
import { sampleValue, startTestExporter, type TestExporter } from '../support/exporter.js';
import { matching, samples } from '../support/exposition.js';
import { run } from './support/netns.js';
import { assertLabCertificates, recordingSshTransport } from './support/recording-ssh.js';
import { startOpenvpnLab, type OpenvpnLab, type ServerName } from './support/openvpn-lab.js';

const TIMEOUT_S = 4;
let lab: OpenvpnLab;
let exporter: TestExporter;
const answers: string[] = [];

before(async () => {
  lab = await startOpenvpnLab();
  const q = (s: string) => JSON.stringify(s);
  const ssh = `    ssh:\n      username: ${lab.sshUser}\n      private_key: {file: ${q(lab.privateKeyFile)}}\n      known_hosts: ${q(lab.knownHostsFile)}\n`;
  exporter = await startTestExporter(
    [
      'modules:',
      `  mgmt_tcp:\n    prober: openvpn-mgmt\n    timeout: ${TIMEOUT_S}s\n    name: udp\n    password: {file: ${q(lab.managementPasswordFile)}}\n`,
      `  mgmt_wrong:\n    prober: openvpn-mgmt\n    timeout: ${TIMEOUT_S}s\n    name: udp\n    password: wrong-${lab.managementPassword.slice(-6)}-x\n`,
      `  mgmt_ssh:\n    prober: openvpn-mgmt\n    timeout: ${TIMEOUT_S}s\n    name: tcp\n${ssh}    socket: ${q(lab.managementSocket)}\n`,
      // The tcp server's configuration holds its CA and certificate inline, beside its key and tls-crypt key.
      `  mgmt_ssh_pki:\n    prober: openvpn-mgmt\n    timeout: ${TIMEOUT_S}s\n    name: tcp\n${ssh}    socket: ${q(lab.managementSocket)}\n    config_files: [${q(lab.configFiles.tcp)}]\n`,
      `  mgmt_ssh_missing:\n    prober: openvpn-mgmt\n    timeout: ${TIMEOUT_S}s\n${ssh}    socket: /run/no-such-openvpn.sock\n`,
      '',
    ].join('\n'),
  );
});

after(async () => {
  await exporter?.close();
  await lab?.stop();
});

async function probe(module: string, target: string): Promise<string> {
  const res = await exporter.get(`/probe?module=${module}&target=${target}&debug=true`);
  const text = await res.text();
  answers.push(text);
  assert.equal(res.status, 200, text);
  return text;
}

async function byHand(server: ServerName): Promise<OpenvpnServerStatus> {
  const status = parseOpenvpnStatus(await lab.management(server, 'status 3'));
  assert.equal(status.format, 'v3');
  return status as OpenvpnServerStatus;
}

const value = (text: string, series: string): number => {
  const v = sampleValue(text, series);
  assert.ok(v !== undefined, `${series} in:\n${text}`);
  return v;
};

/**
 * The exporter's answer against `status 3` asked by hand just before and just after: the same
 * clients, and every byte counter between the two readings (counters only grow).
 */
async function compareWithDaemon(module: string, target: string, server: ServerName): Promise<string> {
  const before = await byHand(server);
  const text = await probe(module, target);
  const afterwards = await byHand(server);
  assert.equal(value(text, 'probe_success'), 1, text);
  assert.equal(value(text, `vpn_tunnel_sessions{tunnel="${server}"}`), afterwards.clients.length);
  for (const [user, sessions] of Object.entries(lab.expectedClients[server])) {
    assert.equal(value(text, `vpn_user_sessions{tunnel="${server}",user="${user}"}`), sessions, user);
    for (const [series, field] of [
      ['vpn_user_receive_bytes_total', 'bytesReceived'],
      ['vpn_user_transmit_bytes_total', 'bytesSent'],
    ] as const) {
      const sum = (s: OpenvpnServerStatus) => s.clients.filter((c) => c.commonName === user).reduce((n, c) => n + c[field], 0);
      const exported = value(text, `${series}{tunnel="${server}",user="${user}"}`);
      assert.ok(
        exported > 0 && sum(before) <= exported && exported <= sum(afterwards),
        `${series} ${user}: ${sum(before)} <= ${exported} <= ${sum(afterwards)}`,
      );
    }
  }
  assert.equal(value(text, `openvpn_state{server="${server}",state="CONNECTED"}`), 1);
  assert.equal(value(text, `openvpn_load_clients{server="${server}"}`), afterwards.clients.length);
  assert.ok(value(text, `openvpn_load_receive_bytes_total{server="${server}"}`) > 0);
  const since = value(text, `openvpn_state_change_timestamp_seconds{server="${server}"}`);
  assert.ok(since > Date.now() / 1000 - 3600 && since <= Date.now() / 1000 + 1, `state since ${since}`);
  const version = (await run('openvpn', ['--version'])).stdout.match(/^OpenVPN (\d+\.\d+\.\d+)/m)?.[1];
  assert.equal(samples(text, 'openvpn_management_info')[0]?.labels.version, version);
  assert.equal(samples(text, 'vpn_info')[0]?.labels.version, version);
  return text;
}

test('over TCP with the password file: the same clients and counters as `status 3` by hand', async () => {
  await compareWithDaemon('mgmt_tcp', lab.managementTarget, 'udp');
});

test('over SSH to the unix socket (stream-local forwarding): the same as `status 3` by hand', async () => {
  await compareWithDaemon('mgmt_ssh', lab.target, 'tcp');
});

test('a wrong password fails with auth_failed, and the interface is free again at once', async () => {
  const text = await probe('mgmt_wrong', lab.managementTarget);
  assert.equal(value(text, 'probe_success'), 0, text);
  assert.equal(value(text, 'probe_failure_info{reason="auth_failed"}'), 1, text);
  assert.match(text, /refused the password/);
  assert.equal(value(await probe('mgmt_tcp', lab.managementTarget), 'probe_success'), 1);
});

test('a socket that is not there fails naming the socket', async () => {
  const text = await probe('mgmt_ssh_missing', lab.target);
  assert.equal(value(text, 'probe_success'), 0, text);
  assert.match(text, /refused a stream to \/run\/no-such-openvpn\.sock/);
});

test('a client connected by hand blocks the interface: the probe fails within its timeout saying so, and works once released', async () => {
  const [host, port] = lab.managementTarget.split(':') as [string, string];
  const holder = net.connect(Number(port), host);
  holder.on('error', () => undefined);
  // Held once OpenVPN has asked this client for the password.
  await new Promise<void>((resolve) => {
    let seen = '';
    holder.on('data', (d: Buffer) => {
      seen += d.toString();
      if (seen.includes('ENTER PASSWORD:')) resolve();
    });
  });
  const started = performance.now();
  const blocked = await probe('mgmt_tcp', lab.managementTarget);
  const seconds = (performance.now() - started) / 1000;
  assert.equal(value(blocked, 'probe_success'), 0, blocked);
  assert.equal(value(blocked, 'probe_failure_info{reason="timeout"}'), 1, blocked);
  assert.match(blocked, /waiting for its greeting \(it serves one client at a time: is another one connected\?\)/);
  assert.ok(seconds < TIMEOUT_S + 2, `failed after ${seconds.toFixed(1)} s`);
  holder.end('quit\n');
  holder.destroy();
  assert.equal(value(await probe('mgmt_tcp', lab.managementTarget), 'probe_success'), 1);
  // And the exporter holds nothing between probes: a client by hand is greeted at once.
  assert.match(await lab.management('udp', 'pid'), /^SUCCESS: pid=\d+/m);
});

test('over SSH with config_files: the session as by hand, and the certificates as openssl reads them', async () => {
  const text = await compareWithDaemon('mgmt_ssh_pki', lab.target, 'tcp');
  await assertLabCertificates(text, lab.pki);
  // Without config_files, no certificate series: they come from the configuration alone.
  const plain = await probe('mgmt_ssh', lab.target);
  assert.equal(matching(plain, 'vpn_certificate_expiry_timestamp_seconds', {}).length, 0, plain);
});

test('no byte of a private or static key reaches the exporter: not over the exec, not over the socket', async () => {
  const { transport: recording, received, channels, logLines: sinkLines } = recordingSshTransport();
  const [host, port] = lab.target.split(':');
  try {
    const snapshot = await openvpnMgmt.probe({
      target: { host: host as string, port: Number(port), raw: lab.target },
      options: openvpnMgmt.optionsSchema.parse({
        name: 'tcp',
        ssh: { username: lab.sshUser, private_key: { file: lab.privateKeyFile }, known_hosts: lab.knownHostsFile },
        socket: lab.managementSocket,
        config_files: [lab.configFiles.tcp],
      }),
      signal: AbortSignal.timeout(10_000),
      log: new CapturingProbeLog(undefined),
      services: { ssh: recording, https: createHttpsTransport() },
    });
    assert.equal(snapshot.certificates?.length, 2, 'the inline ca and cert of the tcp server');
    assert.equal(
      snapshot.sessions.length,
      Object.values(lab.expectedClients.tcp).reduce((a, b) => a + b, 0),
    );
  } finally {
    await recording.close();
  }
  assert.deepEqual(channels.sort(), ['exec', 'stream-local'], 'one exec for the certificates beside the management session');
  const bytes = received.join('\n');
  assert.ok(bytes.includes('-----BEGIN CERTIFICATE-----') && bytes.includes('CLIENT_LIST'), 'the probe did receive the certificates and the status');
  assert.ok(lab.gatewaySecrets.length >= 4, 'the lab has keys to look for');
  const everything = [bytes, ...answers, ...exporter.logs, ...sinkLines].join('\n');
  for (const secret of lab.gatewaySecrets) assert.ok(!everything.includes(secret), 'a line of a private or static key left the gateway');
});

test('the management password appears in no answer, page, history, log or metric', async () => {
  for (const path of ['/history', '/config', '/metrics', `/sessions?module=mgmt_tcp&target=${lab.managementTarget}`]) {
    answers.push(await (await exporter.get(path)).text());
  }
  const everything = [...answers, ...exporter.logs].join('\n');
  for (const form of [lab.managementPassword, Buffer.from(lab.managementPassword).toString('base64').replace(/=+$/, '')]) {
    assert.ok(!everything.includes(form), 'the management password leaked');
  }
  assert.ok(everything.includes(lab.managementPasswordFile), 'the file reference is shown instead');
});
