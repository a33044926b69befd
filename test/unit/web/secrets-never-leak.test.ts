import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import ssh2 from 'ssh2';
import { startTestExporter, type TestExporter } from '../../support/exporter.js';
import { startHostileSsh, type HostileSsh } from '../../support/hostile-ssh.js';
import { scenario, startPanosEmulator, tunnel, type PanosEmulator } from '../../support/panos-emulator/index.js';
import { startSshd, testKeyPair, type Sshd } from '../../support/sshd.js';

/*
 * Every secret a module holds (inline passwords, private keys read from files or written
 * inline, passphrases from the environment) is used against real and hostile SSH servers,
 * and then every channel the exporter answers or writes on is searched for it: the probe
 * endpoints (with and without debug), the JSON API, the pages, the fleet, the history and its logs,
 * /config, /metrics and the exporter's own log lines.
 */

const PASSPHRASE_ENV = 'VPNX_LEAK_TEST_PASSPHRASE';
const WRONG_PASSPHRASE_ENV = 'VPNX_LEAK_TEST_WRONG_PASSPHRASE';
const PASSPHRASE = 'passphrase-7d41c9e0b2a8';
const WRONG_PASSPHRASE = 'not-the-passphrase-55e1c0';
const WRONG_PASSWORD = 'wrong-password-1f0e9d8c7b';
const PAN_PASSWORD = 'PanOS-Secret-9f3c2a71e6';

let sshd: Sshd;
let pan: PanosEmulator;
let impostor: HostileSsh;
let exporter: TestExporter;
let dir: string;
/** Every secret, and every form of it worth looking for. */
const needles = new Map<string, string>();

/** The base64 body of a PEM or OpenSSH key, joined, and line by line. */
function keyForms(label: string, pem: string): void {
  const body = pem
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('-----'))
    .map((l) => l.trim());
  needles.set(`${label} (whole)`, pem.trim());
  needles.set(`${label} (body, joined)`, body.join(''));
  body.forEach((line, i) => {
    if (line.length >= 16) needles.set(`${label} (body line ${i})`, line);
  });
  needles.set(`${label} (base64 of the file)`, Buffer.from(pem).toString('base64').slice(0, 60));
}

function secretForms(label: string, secret: string): void {
  needles.set(label, secret);
  needles.set(`${label} (base64)`, Buffer.from(secret).toString('base64').replace(/=+$/, ''));
  needles.set(`${label} (hex)`, Buffer.from(secret).toString('hex'));
}

/** The key as ssh2 would re-encode it (PKCS#8), should anything ever print the parsed key. */
function parsedKeyForms(label: string, pem: string, passphrase?: string): void {
  const parsed = ssh2.utils.parseKey(pem, passphrase);
  assert.ok(!(parsed instanceof Error), `${label}: ${String(parsed)}`);
  const key = Array.isArray(parsed) ? parsed[0]! : parsed;
  keyForms(`${label} re-encoded`, key.getPrivatePEM());
}

/** A real OpenVPN 2.5 status file, written just now. */
function openvpnStatus(): string {
  const now = Math.floor(Date.now() / 1000);
  return readFileSync('test/fixtures/openvpn/v2-2.5-ipv6-tap.status', 'utf8').replace(/^TIME,([^,]*),\d+$/m, `TIME,$1,${now}`);
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vpnx-secrets-'));
  sshd = await startSshd();
  pan = await startPanosEmulator(scenario({ password: PAN_PASSWORD, tunnels: [tunnel(1, 'to-branch', 'active'), tunnel(2, 'to-dc', 'inactiv')] }));
  impostor = await startHostileSsh('echo', 'impostor-accepts-anything');

  // The sshd's own user key (unencrypted), from a file.
  const plainKeyFile = join(dir, 'plain_key');
  writeFileSync(plainKeyFile, sshd.privateKey, { mode: 0o600 });
  // A second user key, encrypted, its passphrase from the environment.
  const locked = testKeyPair({ comment: 'vpnexp-locked', passphrase: PASSPHRASE });
  appendFileSync(join(sshd.dir, 'authorized_keys'), `${locked.public}\n`);
  const lockedKeyFile = join(dir, 'locked_key');
  writeFileSync(lockedKeyFile, locked.private, { mode: 0o600 });
  process.env[PASSPHRASE_ENV] = PASSPHRASE;
  process.env[WRONG_PASSPHRASE_ENV] = WRONG_PASSPHRASE;
  // An inline key for the module pointed at the impostor.
  const inline = testKeyPair({ comment: 'vpnexp-inline' });

  // What the gateway side serves: an OpenVPN status file, an ipsec.conf and a fake `ipsec`.
  const statusFile = join(sshd.dir, 'udp.status');
  writeFileSync(statusFile, openvpnStatus(), { mode: 0o644 });
  const ipsecConf = join(sshd.dir, 'ipsec.conf');
  copyFileSync('test/fixtures/strongswan-stroke/gw-ipsec.conf', ipsecConf);
  const statusall = join(sshd.dir, 'statusall.txt');
  copyFileSync('test/fixtures/strongswan-stroke/gw-statusall.txt', statusall);
  const fakeIpsec = join(sshd.dir, 'ipsec');
  writeFileSync(fakeIpsec, `#!/bin/sh\ncat ${statusall}\n`, { mode: 0o755 });

  secretForms('sshd password', sshd.password);
  secretForms('wrong password', WRONG_PASSWORD);
  secretForms('PAN-OS password', PAN_PASSWORD);
  secretForms('passphrase', PASSPHRASE);
  secretForms('wrong passphrase', WRONG_PASSPHRASE);
  keyForms('plain key', sshd.privateKey);
  parsedKeyForms('plain key', sshd.privateKey);
  keyForms('locked key', locked.private);
  parsedKeyForms('locked key', locked.private, PASSPHRASE);
  keyForms('inline key', inline.private);
  parsedKeyForms('inline key', inline.private);

  const known = (fp: string | undefined) => JSON.stringify([fp]);
  const indent = (text: string, n: number) =>
    text
      .trim()
      .split('\n')
      .map((l) => ' '.repeat(n) + l)
      .join('\n');
  exporter = await startTestExporter(`modules:
  ovpn_password:
    prober: openvpn-ssh
    timeout: 10s
    ssh:
      username: ${sshd.user}
      password: ${sshd.password}
      host_key_fingerprints: ${known(sshd.hostKeyFingerprint)}
    status_files: [{name: udp, path: ${statusFile}}]
    max_status_age: 1h
  ovpn_key_file:
    prober: openvpn-ssh
    timeout: 10s
    ssh:
      username: ${sshd.user}
      private_key: {file: ${plainKeyFile}}
      host_key_fingerprints: ${known(sshd.hostKeyFingerprint)}
    status_files: [{name: udp, path: ${statusFile}}]
    max_status_age: 1h
  ovpn_wrong_password:
    prober: openvpn-ssh
    timeout: 10s
    ssh:
      username: ${sshd.user}
      password: ${WRONG_PASSWORD}
      host_key_fingerprints: ${known(sshd.hostKeyFingerprint)}
    status_files: [{name: udp, path: ${statusFile}}]
  ipsec_passphrase:
    prober: ipsec-ssh
    timeout: 10s
    ssh:
      username: ${sshd.user}
      private_key: {file: ${lockedKeyFile}}
      passphrase: {env: ${PASSPHRASE_ENV}}
      host_key_fingerprints: ${known(sshd.hostKeyFingerprint)}
    ipsec_conf: ${ipsecConf}
    ipsec_command: ${fakeIpsec}
  ipsec_wrong_passphrase:
    prober: ipsec-ssh
    timeout: 10s
    ssh:
      username: ${sshd.user}
      private_key: {file: ${lockedKeyFile}}
      passphrase: {env: ${WRONG_PASSPHRASE_ENV}}
      host_key_fingerprints: ${known(sshd.hostKeyFingerprint)}
  panos:
    prober: paloalto-ssh
    timeout: 10s
    ssh:
      username: ${pan.username}
      password: ${PAN_PASSWORD}
      host_key_fingerprints: ${known(pan.hostKeyFingerprint)}
  panos_wrong_host_key:
    prober: paloalto-ssh
    timeout: 10s
    ssh:
      username: ${pan.username}
      password: ${PAN_PASSWORD}
      host_key_fingerprints: ${known(sshd.hostKeyFingerprint)}
  impostor_inline_key:
    prober: openvpn-ssh
    timeout: 10s
    ssh:
      username: probe
      password: ${WRONG_PASSWORD}
      private_key: |
${indent(inline.private, 8)}
      host_key_fingerprints: ${known(pan.hostKeyFingerprint)}
    status_files: [{name: udp, path: /run/openvpn/udp.status}]
`);
});

after(async () => {
  await exporter?.close();
  await pan?.close();
  await impostor?.stop();
  await sshd?.stop();
  delete process.env[PASSPHRASE_ENV];
  delete process.env[WRONG_PASSPHRASE_ENV];
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Every text the exporter produced, labelled by where it came from. */
const outputs: { where: string; text: string }[] = [];
let checkedBytes = 0;

async function fetchAll(path: string): Promise<{ status: number; text: string }> {
  const res = await exporter.get(path);
  const text = await res.text();
  outputs.push({ where: `GET ${path} (${res.status})`, text: `${[...res.headers].map(([k, v]) => `${k}: ${v}`).join('\n')}\n\n${text}` });
  return { status: res.status, text };
}

interface Probe {
  module: string;
  target: () => string;
  /** What the probe should come to, so the test knows the secret was really put to use. */
  expect: { success: true } | { reason: RegExp };
}

const PROBES: Probe[] = [
  { module: 'ovpn_password', target: () => `${sshd.host}:${sshd.port}`, expect: { success: true } },
  { module: 'ovpn_key_file', target: () => `${sshd.host}:${sshd.port}`, expect: { success: true } },
  {
    module: 'ovpn_wrong_password',
    target: () => `${sshd.host}:${sshd.port}`,
    expect: { reason: /ssh authentication as vpnexp-ssh-test@127\.0\.0\.1:\d+ failed/ },
  },
  { module: 'ipsec_passphrase', target: () => `${sshd.host}:${sshd.port}`, expect: { success: true } },
  { module: 'ipsec_wrong_passphrase', target: () => `${sshd.host}:${sshd.port}`, expect: { reason: /Cannot parse privateKey: .*bad passphrase/ } },
  { module: 'panos', target: () => `${pan.host}:${pan.port}`, expect: { success: true } },
  { module: 'panos_wrong_host_key', target: () => `${pan.host}:${pan.port}`, expect: { reason: /host key for 127\.0\.0\.1:\d+ not trusted/ } },
  { module: 'impostor_inline_key', target: () => `${impostor.host}:${impostor.port}`, expect: { reason: /host key for 127\.0\.0\.1:\d+ not trusted/ } },
];

test('every SSH module is probed on every endpoint, and each comes to the expected outcome', async () => {
  for (const p of PROBES) {
    const q = `target=${p.target()}&module=${p.module}`;
    const api = await fetchAll(`/api/probe?${q}`);
    assert.equal(api.status, 200, `${p.module}: ${api.text}`);
    const body = JSON.parse(api.text) as { success: boolean; reason: string | null };
    if ('success' in p.expect) assert.equal(body.success, true, `${p.module}: ${body.reason}`);
    else {
      assert.equal(body.success, false, p.module);
      assert.match(body.reason ?? '', p.expect.reason, p.module);
    }
    const probe = await fetchAll(`/probe?${q}`);
    assert.match(probe.text, new RegExp(`^probe_success ${body.success ? 1 : 0}$`, 'm'), p.module);
    const debug = await fetchAll(`/probe?${q}&debug=true`);
    assert.match(debug.text, new RegExp(`Module configuration \\(${p.module}\\)`));
    await fetchAll(`/sessions?${q}`);
    await fetchAll(`/sessions.html?${q}`);
  }
});

test('no secret appears in any answer, page, history entry, log or metric', async () => {
  const history = await fetchAll('/history');
  const ids = [...history.text.matchAll(/logs\?id=(\d+)/g)].map((m) => Number(m[1]));
  assert.ok(ids.length >= PROBES.length * 4, `only ${ids.length} probes in the history`);
  for (const id of new Set(ids)) assert.equal((await fetchAll(`/logs?id=${id}`)).status, 200);
  await fetchAll('/config');
  await fetchAll('/');
  await fetchAll('/fleet');
  const fleet = await fetchAll('/api/fleet?limit=10000');
  assert.ok((JSON.parse(fleet.text) as { total: number }).total >= PROBES.length, 'the fleet lists every probed target');
  await fetchAll('/metrics');
  for (const filter of ['127.0.0.1', sshd.user]) await fetchAll(`/history?target=${encodeURIComponent(filter)}`);
  outputs.push({ where: 'exporter log', text: exporter.logs.join('\n') });
  // The debug output shows the modules' settings: a secret is named there, never shown.
  assert.ok(
    outputs.some((o) => /<secret>/.test(o.text)),
    'no redacted secret was shown anywhere: is /config still rendering modules?',
  );

  const leaks: string[] = [];
  for (const { where, text } of outputs) {
    checkedBytes += text.length;
    for (const [label, needle] of needles) if (text.includes(needle)) leaks.push(`${label} in ${where}`);
  }
  assert.deepEqual(leaks, []);
  console.log(`secrets-never-leak: ${needles.size} secret forms searched in ${outputs.length} outputs (${(checkedBytes / 1024).toFixed(0)} KiB)`);
});

test('the secret files are read once, at load: the exporter holds no path to print them from', () => {
  // The /config page shows the reference ({file: ...}) and never the content; the file is still what it was.
  const config = outputs.find((o) => o.where.startsWith('GET /config'));
  assert.ok(config);
  assert.match(config.text, /plain_key/);
  assert.match(config.text, new RegExp(PASSPHRASE_ENV));
  assert.equal(readFileSync(join(dir, 'plain_key'), 'utf8'), sshd.privateKey);
});
