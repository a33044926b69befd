// deploy/systemd: the unit is hardened as documented, its credentials and
// modules.yaml agree, modules.yaml passes the exporter's loader, and
// systemd-analyze (verify, and security --offline) accepts the unit.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT, runCommand, validateDeployModules } from '../../support/prometheus.js';

const DIR = join(REPO_ROOT, 'deploy/systemd');
const UNIT_NAME = 'vpn-exporter.service';
const UNIT = join(DIR, UNIT_NAME);
const CREDENTIALS = `/run/credentials/${UNIT_NAME}`;

/** Section -> key -> values (a key may repeat), with continuation lines joined. */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  const lines = text.replace(/\\\n\s*/g, ' ').split('\n');
  for (const raw of lines) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[([A-Za-z]+)\]$/.exec(line);
    if (section) {
      current = new Map();
      sections.set(section[1]!, current);
      continue;
    }
    const kv = /^([A-Za-z][A-Za-z0-9]*)=(.*)$/.exec(line);
    assert.ok(kv && current, `not a key=value line in a section: ${line}`);
    const list = current.get(kv[1]!) ?? [];
    list.push(kv[2]!.trim());
    current.set(kv[1]!, list);
  }
  return sections;
}

const unit = parseUnit(readFileSync(UNIT, 'utf8'));
const service = unit.get('Service')!;
const value = (key: string): string | undefined => service.get(key)?.at(-1);
const modulesText = readFileSync(join(DIR, 'modules.yaml'), 'utf8');
const credentialIds = (service.get('LoadCredential') ?? []).map((v) => {
  const m = /^([A-Za-z0-9._-]+):(\/\S+)$/.exec(v);
  assert.ok(m, `LoadCredential=${v} is ID:PATH`);
  return m[1]!;
});

test('the unit has Unit, Service and Install sections', () => {
  assert.deepEqual([...unit.keys()], ['Unit', 'Service', 'Install']);
  assert.equal(unit.get('Install')!.get('WantedBy')?.[0], 'multi-user.target');
});

test('the service runs the built exporter with the modules file and reloads with SIGHUP', () => {
  const exec = value('ExecStart')!.split(/\s+/);
  assert.match(exec[0]!, /^\/.*\/node$/);
  assert.match(exec[1]!, /\/dist\/vpn-exporter\.mjs$/);
  assert.ok(exec.includes('--config.file=/etc/vpn-exporter/modules.yaml'));
  assert.equal(value('ExecReload'), '/bin/kill -HUP $MAINPID');
});

test('the service is hardened: own user, no privileges, read-only system, restricted sockets', () => {
  assert.ok(value('DynamicUser') === 'yes' || (value('User') && value('User') !== 'root'), 'DynamicUser= or its own User=');
  const required: Record<string, string> = {
    ProtectSystem: 'strict',
    ProtectHome: 'yes',
    NoNewPrivileges: 'yes',
    PrivateTmp: 'yes',
    PrivateDevices: 'yes',
    CapabilityBoundingSet: '',
    AmbientCapabilities: '',
    RestrictAddressFamilies: 'AF_INET AF_INET6 AF_UNIX',
    ProtectKernelTunables: 'yes',
    ProtectKernelModules: 'yes',
    ProtectControlGroups: 'yes',
    RestrictNamespaces: 'yes',
    RestrictSUIDSGID: 'yes',
    LockPersonality: 'yes',
    SystemCallArchitectures: 'native',
  };
  for (const [key, want] of Object.entries(required)) assert.equal(value(key), want, `${key}=${want}`);
  assert.equal(service.get('CapabilityBoundingSet')!.length, 1, 'one empty CapabilityBoundingSet=, nothing added back');
  assert.ok((service.get('SystemCallFilter') ?? []).includes('@system-service'));
  // V8's JIT needs writable+executable pages: the option must not be switched on.
  assert.notEqual(value('MemoryDenyWriteExecute'), 'yes');
});

test('every credential the unit loads is used by modules.yaml under its directory, and the reverse', async () => {
  assert.ok(credentialIds.length >= 1);
  const { referenced } = await validateDeployModules(modulesText, CREDENTIALS, credentialIds);
  assert.deepEqual([...referenced].sort(), [...credentialIds].sort());
  assert.doesNotMatch(modulesText.replace(/^\s*#.*$/gm, ''), /\$\{?CREDENTIALS_DIRECTORY/, 'modules.yaml takes literal paths');
});

test("modules.yaml validates with the exporter's loader and registered probers", async () => {
  const { config } = await validateDeployModules(modulesText, CREDENTIALS, credentialIds);
  assert.deepEqual([...config.modules.keys()].sort(), ['ipsec_ssh', 'openvpn_ssh', 'paloalto_api', 'paloalto_ssh', 'strongswan_vici', 'wireguard_ssh']);
  for (const m of config.modules.values()) {
    if (m.prober.name.endsWith('-ssh')) assert.ok(m.allowList, `${m.name} limits its targets (allowed_targets)`);
  }
});

test('systemd-analyze verify and security --offline accept the unit', async () => {
  // Debian's systemd package is on every machine of this kind; without it this test must fail, not pass empty.
  const analyze = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find((p) => existsSync(p));
  assert.ok(analyze, 'systemd-analyze (Debian package systemd) is required to verify the unit');
  const verify = await runCommand(analyze, ['verify', UNIT_NAME], { cwd: DIR });
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  // verify exits 0 on unknown keys and bad values, and only warns: there must be no warning.
  assert.equal((verify.stdout + verify.stderr).trim(), '', 'systemd-analyze verify printed warnings');
  // Exposure is scored 0-10; --threshold takes tenths. 2.0 or less is "OK" in systemd's words.
  const security = await runCommand(analyze, ['security', '--offline=yes', '--threshold=20', UNIT_NAME], { cwd: DIR });
  assert.equal(security.code, 0, security.stdout + security.stderr);
  assert.match(security.stdout, /Overall exposure level for vpn-exporter\.service: [0-9.]+ OK/);
});
