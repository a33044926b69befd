import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { test } from 'node:test';
import { z } from 'zod';
import { loadConfig, parseConfig } from '../../../src/config/modules.js';
import { ConfigError } from '../../../src/config/config.js';
import { parseDurationMs } from '../../../src/config/duration.js';
import { Secret, secretSchema } from '../../../src/config/secret.js';
import { PROBERS } from '../../../src/probers.js';

function rejects(text: string, expected: RegExp): void {
  assert.throws(
    () => parseConfig('m.yaml', text, PROBERS),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
      assert.match(err.message, expected);
      return true;
    },
  );
}

test('the shipped modules.yaml is valid', async () => {
  const config = await loadConfig('modules.yaml', PROBERS);
  assert.ok(config.modules.has('strongswan_vici'));
  assert.equal(config.modules.get('strongswan_vici')?.prober.name, 'strongswan-vici-tcp');
});

test('the commented SSH examples in modules.yaml are complete and valid once uncommented', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vpnx-examples-'));
  for (const f of ['id_ed25519', 'known_hosts', 'panos-password', 'openvpn-mgmt-password']) writeFileSync(join(dir, f), 'x\n');
  // An example block starts at "  #<module>:" and runs over the "  #  " lines right after it.
  let inBlock = false;
  const text = readFileSync('modules.yaml', 'utf8')
    .split('\n')
    .map((l) => {
      if (/^ {2}#[a-z_]+:\s*$/.test(l)) {
        inBlock = true;
        return l.replace('#', '');
      }
      if (inBlock && l.startsWith('  #  ')) return `    ${l.slice(5)}`;
      inBlock = false;
      return l;
    })
    .join('\n')
    .replaceAll('/etc/vpn-exporter/', `${dir}/`);
  const config = parseConfig('modules.yaml', text, PROBERS);
  assert.deepEqual([...config.modules.keys()].sort(), [
    'ipsec_ssh',
    'openvpn_mgmt',
    'openvpn_mgmt_ssh',
    'openvpn_ssh',
    'paloalto_api',
    'paloalto_ssh',
    'strongswan_vici',
    'strongswan_vici_ssh',
    'wireguard_ssh',
  ]);
  const probers = new Set([...config.modules.values()].map((m) => m.prober.name));
  assert.deepEqual([...probers].sort(), [...PROBERS.keys()].sort(), 'one example per prober');
});

test('a module gets defaults and its prober options', () => {
  const c = parseConfig('m.yaml', 'modules:\n  v:\n    prober: strongswan-vici-tcp\n', PROBERS);
  const m = c.modules.get('v');
  assert.equal(m?.timeoutMs, 10_000);
  assert.deepEqual(m?.options, { max_response_bytes: 256 << 20, pools: true, certificates: true });
});

test('errors name the file, the key path and the reason', () => {
  rejects('modules:\n  v:\n    prober: strongswan-vici-tcp\n    timeout: 5x\n', /^m\.yaml: modules\.v\.timeout: invalid duration "5x"/);
  rejects('modules:\n  v:\n    prober: nope\n', /m\.yaml: modules\.v\.prober: unknown prober "nope" \(known: strongswan-vici-tcp/);
  rejects('modules:\n  v:\n    prober: strongswan-vici-tcp\n    pool: true\n', /m\.yaml: modules\.v: .*pool/);
  rejects('modules:\n  v:\n    prober: strongswan-vici-tcp\n    pools: "yes"\n', /m\.yaml: modules\.v\.pools: /);
  rejects('modulez: {}\n', /m\.yaml: .*modulez/);
  rejects('modules:\n  v: 3\n', /modules\.v: a module is a mapping/);
  rejects('modules:\n  "bad name!":\n    prober: strongswan-vici-tcp\n', /module names are/);
  rejects('modules:\n  v:\n    prober: strongswan-vici-tcp\n  v:\n    prober: strongswan-vici-tcp\n', /m\.yaml: .*[Mm]ap keys must be unique/);
  rejects('modules: [\n', /m\.yaml: /);
});

test('an empty file is an empty configuration', () => {
  assert.equal(parseConfig('m.yaml', '', PROBERS).modules.size, 0);
});

test('durations follow Prometheus syntax', () => {
  assert.equal(parseDurationMs('500ms'), 500);
  assert.equal(parseDurationMs('1m30s'), 90_000);
  assert.equal(parseDurationMs('2h'), 7_200_000);
  assert.equal(parseDurationMs('1.5s'), 1500);
  for (const bad of ['', '5', 's', '5 s', '-1s', '5x', '1s2']) assert.equal(parseDurationMs(bad), undefined, bad);
});

test('secrets resolve from inline, file and env, and never print', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vpnx-secret-'));
  writeFileSync(join(dir, 'pw'), 'hunter2-from-file\n');
  process.env.VPNX_TEST_SECRET = 'hunter2-from-env';
  const schema = z.strictObject({ password: secretSchema });
  const fromFile = schema.parse({ password: { file: join(dir, 'pw') } }).password;
  const fromEnv = schema.parse({ password: { env: 'VPNX_TEST_SECRET' } }).password;
  const inline = schema.parse({ password: 'hunter2-inline' }).password;
  assert.equal(fromFile.reveal(), 'hunter2-from-file');
  assert.equal(fromEnv.reveal(), 'hunter2-from-env');
  assert.equal(inline.reveal(), 'hunter2-inline');
  for (const s of [fromFile, fromEnv, inline]) {
    assert.ok(s instanceof Secret);
    const printed = [String(s), JSON.stringify({ s }), inspect({ s }), `${s}`].join(' ');
    assert.doesNotMatch(printed, /hunter2/);
  }
  const missing = schema.safeParse({ password: { env: 'VPNX_NOT_SET_ANYWHERE' } });
  assert.equal(missing.success, false);
  assert.match(missing.error?.issues[0]?.message ?? '', /VPNX_NOT_SET_ANYWHERE is not set/);
  const noFile = schema.safeParse({ password: { file: join(dir, 'absent') } });
  assert.match(noFile.error?.issues[0]?.message ?? '', /cannot read secret file .*absent/);
});

test('strongswan-vici-ssh passes socket_command to the gateway only as plain words', () => {
  const ssh = '    ssh: {username: m, password: x, insecure_skip_host_key_verify: true}\n    allowed_targets: ["192.0.2.1"]\n';
  const module = (extra: string) => `modules:\n  v:\n    prober: strongswan-vici-ssh\n${ssh}${extra}`;
  const ok = parseConfig('m.yaml', module('    socket_command: "sudo -n socat STDIO UNIX-CONNECT:/var/run/charon.vici"\n'), PROBERS);
  assert.equal((ok.modules.get('v')?.options as { socket: string } | undefined)?.socket, '/var/run/charon.vici');
  for (const bad of ['socat STDIO UNIX-CONNECT:$HOME/x', 'a; reboot', 'a | b', 'a  b', '`id`', "a 'b'", 'a\\nb']) {
    rejects(module(`    socket_command: ${JSON.stringify(bad)}\n`), /modules\.v\.socket_command: words of/);
  }
  rejects(module('    socket: "var/run/charon.vici"\n'), /modules\.v\.socket: an absolute path/);
  rejects(module(`    socket: "/run/${'x'.repeat(110)}"\n`), /modules\.v\.socket: /);
});
