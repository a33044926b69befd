import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isAllowed } from '../../../src/config/allow-list.js';
import { parseConfig } from '../../../src/config/modules.js';
import { PROBERS } from '../../../src/probers.js';
import { sampleValue, startTestExporter, type TestExporter } from '../../support/exporter.js';
import { samples } from '../../support/exposition.js';
import { freePort } from '../../support/free-port.js';
import { startFakeMgmtServer, type FakeMgmtServer, type MgmtMode } from '../../support/openvpn-mgmt-server.js';
import { startSshd, type Sshd } from '../../support/sshd.js';
import { waitFor } from '../../support/wait-for.js';
import { makeLabPki, type LabPki } from '../../lab/support/strongswan-pki.js';

/*
 * openvpn-mgmt over TCP through the whole exporter, against a fake management interface that
 * follows manage.c's dialogue (and serves one client at a time), and against hostile ones.
 * The real daemon is in test/lab/openvpn-mgmt.test.ts.
 */

const PASSWORD = 'mgmt-Secret-5b7e19c4d2';
const WRONG = 'not-the-mgmt-password-0a9f';
const TIMEOUT_S = 3;

let exporter: TestExporter;
let good: FakeMgmtServer;
const hostile = {} as Record<Exclude<MgmtMode, 'normal'>, FakeMgmtServer>;
const answers: string[] = [];

before(async () => {
  good = await startFakeMgmtServer({ password: PASSWORD });
  for (const mode of ['garbage', 'endless-line', 'hang', 'notification-flood'] as const) hostile[mode] = await startFakeMgmtServer({ mode });
  const module = (name: string, extra = '') => `  ${name}:\n    prober: openvpn-mgmt\n    timeout: ${TIMEOUT_S}s\n${extra}`;
  exporter = await startTestExporter(
    [
      'modules:',
      module('mgmt', `    name: udp\n    password: ${PASSWORD}\n`),
      // A second module on the same interface: the two must take turns, not collide inside OpenVPN.
      module('mgmt_too', `    password: ${PASSWORD}\n`),
      module('mgmt_wrong', `    password: ${WRONG}\n`),
      module('mgmt_nopass'),
      module('mgmt_small', '    max_response_bytes: 65536\n'),
      '',
    ].join('\n'),
  );
});

after(async () => {
  await exporter?.close();
  await good?.close();
  for (const s of Object.values(hostile)) await s.close();
});

interface ApiResult {
  success: boolean;
  reason: string | null;
  failureReason: string | null;
  durationSeconds: number;
}

async function api(module: string, target: string): Promise<ApiResult> {
  const res = await exporter.get(`/api/probe?module=${module}&target=${target}`);
  const text = await res.text();
  answers.push(text);
  assert.equal(res.status, 200, text);
  return JSON.parse(text) as ApiResult;
}

async function metrics(module: string, target: string): Promise<string> {
  const res = await exporter.get(`/probe?module=${module}&target=${target}&debug=true`);
  const text = await res.text();
  answers.push(text);
  return text;
}

const at = (s: { host: string; port: number }) => `${s.host}:${s.port}`;

describe('openvpn-mgmt over TCP', () => {
  it('answers the password prompt and reports the server, its clients, state, load and version', async () => {
    const text = await metrics('mgmt', at(good));
    assert.equal(sampleValue(text, 'probe_success'), 1, text);
    assert.equal(sampleValue(text, 'vpn_tunnel_sessions{tunnel="udp"}'), 3);
    assert.equal(sampleValue(text, 'vpn_tunnel_up{tunnel="udp",kind="remote-access"}'), 1);
    assert.equal(sampleValue(text, 'vpn_user_sessions{tunnel="udp",user="alice"}'), 2);
    assert.equal(sampleValue(text, 'vpn_user_receive_bytes_total{tunnel="udp",user="bob"}'), 3027);
    assert.equal(sampleValue(text, 'openvpn_state{server="udp",state="CONNECTED"}'), 1);
    assert.equal(sampleValue(text, 'openvpn_state{server="udp",state="RECONNECTING"}'), 0);
    assert.equal(sampleValue(text, 'openvpn_state_change_timestamp_seconds{server="udp"}'), 1795502820);
    assert.equal(sampleValue(text, 'openvpn_load_clients{server="udp"}'), 3);
    assert.equal(sampleValue(text, 'openvpn_load_receive_bytes_total{server="udp"}'), 184223);
    assert.equal(sampleValue(text, 'openvpn_load_transmit_bytes_total{server="udp"}'), 190871);
    assert.equal(sampleValue(text, 'openvpn_management_info{server="udp",version="2.6.14",management_version="5"}'), 1);
    assert.equal(samples(text, 'vpn_info')[0]?.labels.version, '2.6.14');
    assert.equal(samples(text, 'openvpn_status_info').length, 0, 'no status file was read');
    // The last thing the exporter said was quit, and it holds nothing afterwards.
    await waitFor('quit after the last answer', () => good.received.at(-1) === 'quit', { timeoutMs: 5000 });
    await waitFor('the exporter to let go of the interface', () => good.connections() === 0, { timeoutMs: 5000 });
  });

  it('probes of two modules on one interface take turns, and every one succeeds', async () => {
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => api(i % 2 ? 'mgmt' : 'mgmt_too', at(good))));
    for (const r of results) assert.equal(r.success, true, r.reason ?? '');
    await waitFor('no connection left', () => good.connections() === 0, { timeoutMs: 5000 });
  });

  it('a wrong password fails with auth_failed, and so does a module without one when asked', async () => {
    const wrong = await api('mgmt_wrong', at(good));
    assert.equal(wrong.failureReason, 'auth_failed', wrong.reason ?? '');
    assert.match(wrong.reason ?? '', /refused the password/);
    const none = await api('mgmt_nopass', at(good));
    assert.equal(none.failureReason, 'auth_failed');
    assert.match(none.reason ?? '', /asks for a password and the module has none/);
  });

  it('a busy interface (another client holds it) fails at the timeout, saying so, and works once released', async () => {
    const holder = net.connect(good.port, good.host);
    holder.on('error', () => undefined);
    await new Promise<void>((resolve) => holder.once('data', () => resolve()));
    const started = performance.now();
    const busy = await api('mgmt', at(good));
    const seconds = (performance.now() - started) / 1000;
    assert.equal(busy.failureReason, 'timeout', busy.reason ?? '');
    assert.match(busy.reason ?? '', /waiting for its greeting \(it serves one client at a time: is another one connected\?\)/);
    assert.ok(seconds < TIMEOUT_S * 3, `failed after ${seconds.toFixed(1)} s`);
    holder.destroy();
    const again = await api('mgmt', at(good));
    assert.equal(again.success, true, again.reason ?? '');
  });

  it('a closed port fails with connection_refused', async () => {
    const port = await freePort();
    const r = await api('mgmt', `127.0.0.1:${port}`);
    assert.equal(r.failureReason, 'connection_refused', r.reason ?? '');
  });

  for (const [mode, reason, words] of [
    ['garbage', 'protocol_error', /not an OpenVPN management interface/],
    ['endless-line', 'output_too_large', /line longer than 65536 bytes|more than 65536 bytes/],
    ['hang', 'timeout', /waiting for its greeting/],
    ['notification-flood', 'output_too_large', /more than 65536 bytes|more than 10000 notifications/],
  ] as const) {
    it(`a hostile interface (${mode}) fails with ${reason} within the timeout and is let go`, async () => {
      const server = hostile[mode];
      const started = performance.now();
      const r = await api('mgmt_small', at(server));
      assert.equal(r.success, false);
      assert.equal(r.failureReason, reason, r.reason ?? '');
      assert.match(r.reason ?? '', words);
      assert.ok((performance.now() - started) / 1000 < TIMEOUT_S * 3);
      await waitFor(`the exporter to close its connection to the ${mode} server`, () => server.connections() === 0, { timeoutMs: 5000 });
    });
  }

  it('the management password appears in no answer, page, history, log or metric', async () => {
    for (const path of ['/history', '/config', '/metrics', '/']) answers.push(await (await exporter.get(path)).text());
    for (const q of [`module=mgmt&target=${at(good)}`, `module=mgmt_wrong&target=${at(good)}`]) {
      for (const p of ['/sessions', '/sessions.html', '/probe?debug=true&']) {
        const url = p.endsWith('&') ? `${p}${q}` : `${p}?${q}`;
        answers.push(await (await exporter.get(url)).text());
      }
    }
    const ids = [...(answers.find((a) => a.includes('logs?id=')) ?? '').matchAll(/logs\?id=(\d+)/g)].map((m) => m[1]);
    assert.ok(ids.length > 0);
    for (const id of new Set(ids)) answers.push(await (await exporter.get(`/logs?id=${id}`)).text());
    const everything = [...answers, ...exporter.logs].join('\n');
    assert.ok(good.received.includes(PASSWORD) && good.received.includes(WRONG), 'both passwords were really sent');
    for (const secret of [PASSWORD, WRONG]) {
      for (const form of [secret, Buffer.from(secret).toString('base64').replace(/=+$/, ''), Buffer.from(secret).toString('hex')]) {
        assert.ok(!everything.includes(form), `a form of a management password leaked (${form.slice(0, 4)}…)`);
      }
    }
    assert.match(everything, /<secret>/, 'the configuration is shown with the password redacted');
  });
});

describe('openvpn-mgmt configuration', () => {
  const load = (body: string) => parseConfig('m.yaml', `modules:\n  m:\n    prober: openvpn-mgmt\n${body}`, PROBERS);
  const ssh = '    ssh: {username: mon, password: pw, known_hosts: /dev/null}\n';

  it('defaults to port 7505 over TCP and 22 over SSH, for targets and allowed_targets alike', () => {
    assert.equal(load('').modules.get('m')?.defaultPort, 7505);
    const viaSsh = load(`${ssh}    socket: /run/openvpn/server.sock\n    allowed_targets: [192.0.2.1]\n`).modules.get('m');
    assert.equal(viaSsh?.defaultPort, 22);
    assert.equal(isAllowed(viaSsh?.allowList, '192.0.2.1', 22), true);
    assert.equal(isAllowed(viaSsh?.allowList, '192.0.2.1', 7505), false);
    const viaTcp = load('    allowed_targets: [192.0.2.1]\n').modules.get('m');
    assert.equal(isAllowed(viaTcp?.allowList, '192.0.2.1', 7505), true);
    assert.equal(isAllowed(viaTcp?.allowList, '192.0.2.1', 22), false);
  });

  it('refuses ssh without a socket, a socket without ssh, both socket forms, unknown keys and multi-line passwords', () => {
    assert.throws(() => load(ssh), /with ssh, give socket/);
    assert.throws(() => load('    socket: /run/openvpn/server.sock\n'), /give ssh/);
    assert.throws(() => load(`${ssh}    socket: /run/x.sock\n    socket_command: sudo -n socat STDIO UNIX-CONNECT:/run/x.sock\n`), /not both/);
    assert.throws(() => load('    pasword: x\n'), /pasword/);
    assert.throws(() => load('    password: "a\\nb"\n'), /single line/);
  });

  it('refuses config_files and command_prefix over TCP: they are read over SSH', () => {
    assert.throws(() => load('    config_files: [/etc/openvpn/server/server.conf]\n'), /config_files are read over SSH/);
    assert.throws(() => load('    command_prefix: sudo -n\n'), /command_prefix applies to commands over SSH/);
    const viaSsh = load(`${ssh}    socket: /run/x.sock\n    config_files: [/etc/openvpn/server/server.conf]\n    command_prefix: sudo -n\n`);
    assert.ok(viaSsh.modules.get('m'));
  });

  it('a default auth takes effect only where it fits: an ssh auth on a module over TCP is a config error', () => {
    const withAuth = (body: string) =>
      parseConfig('m.yaml', `auths:\n  mon:\n${ssh.replace('    ssh:', '    ssh:')}modules:\n  m:\n    prober: openvpn-mgmt\n    auth: mon\n${body}`, PROBERS);
    assert.throws(() => withAuth(''), /no ssh credentials \(nor an ssh auth\) apply/);
    assert.equal(withAuth('    socket: /run/x.sock\n').modules.get('m')?.defaultAuth, 'mon');
  });
});

describe('openvpn-mgmt over SSH to a unix socket (a real sshd on loopback)', () => {
  let sshd: Sshd;
  let dir: string;
  let onSocket: FakeMgmtServer;
  let viaSsh: TestExporter;
  let pki: LabPki;
  let serverConf: string;
  let bigConf: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vpnx-mgmt-ssh-'));
    chmodSync(dir, 0o755);
    sshd = await startSshd();
    const socket = join(dir, 'server.sock');
    onSocket = await startFakeMgmtServer({ path: socket, password: PASSWORD });
    // The test sshd's account is not root: the operator hands the socket over, as the README says.
    chmodSync(socket, 0o666);
    const credentials = `{username: ${sshd.user}, password: ${sshd.password}, host_key_fingerprints: [${JSON.stringify(sshd.hostKeyFingerprint)}]}`;
    const login = `    ssh: ${credentials}\n`;
    pki = makeLabPki(join(dir, 'pki'));
    // A server configuration with its CA as a file and its certificate inline, beside a missing CRL.
    serverConf = join(dir, 'server.conf');
    writeFileSync(serverConf, `ca pki/ca.crt\n<cert>\n${readFileSync(pki.gwCert, 'utf8')}</cert>\ncrl-verify pki/gone.crl\n`);
    // A bundle too large for the module's bound: the certificate exec fails on its own.
    bigConf = join(dir, 'big.conf');
    writeFileSync(join(dir, 'pki', 'bundle.crt'), readFileSync(pki.caCert, 'utf8').repeat(8));
    writeFileSync(bigConf, 'ca pki/bundle.crt\n');
    for (const f of [pki.caCert, pki.gwCert, join(dir, 'pki', 'bundle.crt')]) chmodSync(f, 0o644);
    chmodSync(join(dir, 'pki'), 0o755);
    const m = (name: string, body: string) => `  ${name}:\n    prober: openvpn-mgmt\n    timeout: ${TIMEOUT_S}s\n    password: ${PASSWORD}\n${login}${body}`;
    viaSsh = await startTestExporter(
      [
        'auths:',
        `  mon:\n    ssh: ${credentials}`,
        'modules:',
        m('forward', `    socket: ${socket}\n`),
        m('forward_pki', `    socket: ${socket}\n    config_files: [${serverConf}, ${join(dir, 'gone.conf')}]\n`),
        m('forward_big', `    socket: ${socket}\n    max_response_bytes: 4096\n    config_files: [${bigConf}]\n`),
        `  tcp:\n    prober: openvpn-mgmt\n    timeout: ${TIMEOUT_S}s\n`,
        m('bridge', `    socket_command: socat STDIO UNIX-CONNECT:${socket}\n`),
        m('bridge_broken', `    socket_command: socat STDIO UNIX-CONNECT:${join(dir, 'gone.sock')}\n`),
        m('missing', `    socket: ${join(dir, 'gone.sock')}\n`),
        '',
      ].join('\n'),
    );
  });

  after(async () => {
    await viaSsh?.close();
    await onSocket?.close();
    await sshd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const probeVia = async (module: string) => {
    const res = await viaSsh.get(`/api/probe?module=${module}&target=${sshd.host}:${sshd.port}`);
    return JSON.parse(await res.text()) as ApiResult;
  };

  it('a stream-local forward and a bridge command both carry the dialogue', async () => {
    for (const module of ['forward', 'bridge']) {
      const r = await probeVia(module);
      assert.equal(r.success, true, `${module}: ${r.reason}`);
      await waitFor(`${module}: quit after the last answer`, () => onSocket.received.at(-1) === 'quit', { timeoutMs: 5000 });
    }
    await waitFor('the socket to be free', () => onSocket.connections() === 0, { timeoutMs: 5000 });
  });

  it('with config_files, the certificates are read beside the session; an unreadable configuration costs only its own series', async () => {
    const res = await viaSsh.get(`/probe?module=forward_pki&target=${sshd.host}:${sshd.port}&debug=true`);
    const text = await res.text();
    assert.equal(sampleValue(text, 'probe_success'), 1, text);
    const expiries = samples(text, 'vpn_certificate_expiry_timestamp_seconds');
    assert.equal(expiries.length, 2, text);
    for (const pem of [pki.caCert, pki.gwCert]) {
      const notAfter = Date.parse(new X509Certificate(readFileSync(pem)).validTo) / 1000;
      assert.ok(
        expiries.some((e) => e.value === notAfter),
        `${pem}: its expiry ${notAfter} is exported`,
      );
    }
    assert.match(text, /certificates: not read.*gone\.c(rl|onf)/s, 'the unreadable files are named in the log');
    await waitFor('the socket to be free', () => onSocket.connections() === 0, { timeoutMs: 5000 });
  });

  it('a certificate exec that fails (here: past max_response_bytes) costs the certificate series, not the probe', async () => {
    const res = await viaSsh.get(`/probe?module=forward_big&target=${sshd.host}:${sshd.port}&debug=true`);
    const text = await res.text();
    assert.equal(sampleValue(text, 'probe_success'), 1, text);
    assert.equal(samples(text, 'vpn_certificate_expiry_timestamp_seconds').length, 0, text);
    assert.match(text, /certificates: not read/);
    await waitFor('the socket to be free', () => onSocket.connections() === 0, { timeoutMs: 5000 });
  });

  it('an ssh auth fits a module on a socket and is a 400 on one over TCP', async () => {
    const fits = await viaSsh.get(`/api/probe?module=forward&target=${sshd.host}:${sshd.port}&auth=mon`);
    const result = JSON.parse(await fits.text()) as ApiResult;
    assert.equal(result.success, true, result.reason ?? '');
    const misfit = await viaSsh.get(`/probe?module=tcp&target=${sshd.host}:${sshd.port}&auth=mon`);
    assert.equal(misfit.status, 400);
    assert.match(await misfit.text(), /auth "mon" holds ssh credentials; module "tcp" \(openvpn-mgmt\) takes none/);
  });

  it('a missing socket names it; a failing bridge gives its exit and stderr', async () => {
    const missing = await probeVia('missing');
    assert.match(missing.reason ?? '', /refused a stream to .*gone\.sock/);
    const broken = await probeVia('bridge_broken');
    assert.equal(broken.success, false);
    assert.match(broken.reason ?? '', /socket_command "socat .*" exited with code 1: .*gone\.sock/);
  });
});
