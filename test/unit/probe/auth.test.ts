// Credentials per target (`auths:` + `?auth=`, as in snmp_exporter), against two PAN-OS
// emulators with different passwords: real ssh2 servers that count the connections they hold.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { parseConfig } from '../../../src/config/modules.js';
import { PROBERS } from '../../../src/probers.js';
import { sampleValue, startTestExporter, type TestExporter } from '../../support/exporter.js';
import { SCENARIOS, startPanosEmulator, type PanosEmulator } from '../../support/panos-emulator/index.js';

const EU_PASSWORD = 'eu-Secret-4711';
const US_PASSWORD = 'us-Secret-0815';

let eu: PanosEmulator;
let us: PanosEmulator;
let exporter: TestExporter;

const login = (password: string, fingerprints: string[]) =>
  `    ssh:\n      username: admin\n      password: ${password}\n      host_key_fingerprints: [${fingerprints.map((f) => `"${f}"`).join(', ')}]\n`;

before(async () => {
  [eu, us] = await Promise.all([
    startPanosEmulator({ ...SCENARIOS.allActive, password: EU_PASSWORD }),
    startPanosEmulator({ ...SCENARIOS.allActive, password: US_PASSWORD }),
  ]);
  const both = [eu.hostKeyFingerprint, us.hostKeyFingerprint];
  exporter = await startTestExporter(
    'auths:\n' +
      '  eu:\n' +
      login(EU_PASSWORD, both) +
      '  us:\n' +
      login(US_PASSWORD, both) +
      '  careless:\n    ssh:\n      username: admin\n      password: x\n      insecure_skip_host_key_verify: true\n' +
      'modules:\n' +
      '  pan:\n    prober: paloalto-ssh\n    auth: eu\n' +
      `  pan_listed:\n    prober: paloalto-ssh\n    auth: eu\n    allowed_targets: ["127.0.0.1:${eu.port}"]\n` +
      '  vici:\n    prober: strongswan-vici-tcp\n',
  );
});

after(async () => {
  await exporter?.close();
  await Promise.all([eu?.close(), us?.close()]);
});

const probe = (query: string) => exporter.get(`/probe?${query}`);

test('a request picks its credentials by name; the module names a default', async () => {
  const euDefault = await (await probe(`module=pan&target=127.0.0.1:${eu.port}`)).text();
  assert.equal(sampleValue(euDefault, 'probe_success'), 1, euDefault);
  const usNamed = await (await probe(`module=pan&target=127.0.0.1:${us.port}&auth=us`)).text();
  assert.equal(sampleValue(usNamed, 'probe_success'), 1, usNamed);
  // The default's password is not the US unit's: refused by the device, said as such.
  const usDefault = await (await probe(`module=pan&target=127.0.0.1:${us.port}`)).text();
  assert.equal(sampleValue(usDefault, 'probe_success'), 0);
  assert.equal(sampleValue(usDefault, 'probe_failure_info{reason="auth_failed"}'), 1);
});

test('connections are pooled per credentials: the same auth reuses its connection, a refused one leaves none', async () => {
  await probe(`module=pan&target=127.0.0.1:${us.port}&auth=us`);
  const held = us.connections();
  await probe(`module=pan&target=127.0.0.1:${us.port}&auth=us`);
  assert.equal(us.connections(), held, 'the same auth reuses its connection');
  await probe(`module=pan&target=127.0.0.1:${eu.port}&auth=eu`);
  await probe(`module=pan&target=127.0.0.1:${eu.port}&auth=us`);
  // The refused connection closes as the server notices; the accepted one stays pooled.
  for (const started = Date.now(); eu.connections() > 1 && Date.now() - started < 10_000; ) await new Promise((r) => setTimeout(r, 50));
  assert.equal(eu.connections(), 1);
});

test('unknown auths, auths that do not fit the prober, and unsafe auths are 400s; allowed_targets still applies', async () => {
  const unknown = await probe(`module=pan&target=127.0.0.1:${eu.port}&auth=nope`);
  assert.equal(unknown.status, 400);
  assert.match(await unknown.text(), /unknown auth "nope"/);
  const misfit = await probe(`module=vici&target=127.0.0.1:${eu.port}&auth=eu`);
  assert.equal(misfit.status, 400);
  assert.match(await misfit.text(), /auth "eu" holds ssh credentials; module "vici" \(strongswan-vici-tcp\) takes none/);
  const careless = await probe(`module=pan&target=127.0.0.1:${eu.port}&auth=careless`);
  assert.equal(careless.status, 400);
  assert.match(await careless.text(), /skips host key verification, and module "pan" has no allowed_targets/);
  const outside = await probe(`module=pan_listed&target=127.0.0.1:${us.port}&auth=us`);
  assert.equal(outside.status, 403);
  const repeated = await probe(`module=pan&target=127.0.0.1:${eu.port}&auth=eu&auth=us`);
  assert.equal(repeated.status, 400);
  const metrics = await (await exporter.get('/metrics')).text();
  assert.ok((sampleValue(metrics, 'vpn_exporter_probes_total{module="",result="rejected"}') ?? 0) >= 5);
});

test('/config shows the auths by name with their secrets redacted; no output carries a password', async () => {
  const page = await (await exporter.get('/config')).text();
  assert.match(page, /auths:/);
  assert.match(page, /careless:/);
  for (const secret of [EU_PASSWORD, US_PASSWORD]) {
    assert.ok(!page.includes(secret), 'config page');
    assert.ok(!exporter.logs.some((l) => l.includes(secret)), 'log');
    const debug = await (await probe(`module=pan&target=127.0.0.1:${eu.port}&debug=true`)).text();
    assert.ok(!debug.includes(secret), 'debug output');
    const api = await (await exporter.get(`/api/probe?module=pan&target=127.0.0.1:${us.port}&auth=us`)).text();
    assert.ok(!api.includes(secret), '/api/probe');
  }
});

test("the loader: a default auth must exist and fit, and stands in for the module's own credentials", () => {
  const base = `auths:\n  a:\n    ssh:\n      username: u\n      password: p\n      host_key_fingerprints: ["SHA256:${'A'.repeat(43)}"]\nmodules:\n`;
  assert.throws(() => parseConfig('m.yaml', `${base}  m:\n    prober: paloalto-ssh\n    auth: b\n`, PROBERS), /m\.yaml: modules\.m\.auth: unknown auth "b"/);
  assert.throws(
    () => parseConfig('m.yaml', `${base}  m:\n    prober: strongswan-vici-tcp\n    auth: a\n`, PROBERS),
    /modules\.m\.auth: auth "a" holds ssh credentials; strongswan-vici-tcp takes none/,
  );
  assert.throws(
    () => parseConfig('m.yaml', `${base}  m:\n    prober: paloalto-ssh\n    auth: a\n    ssh: {username: x, password: y, known_hosts: /k}\n`, PROBERS),
    /give either ssh or auth, not both/,
  );
  assert.throws(() => parseConfig('m.yaml', 'auths:\n  a:\n    ssh:\n      username: u\n', PROBERS), /m\.yaml: auths\.a\.ssh: give password or private_key/);
  assert.throws(() => parseConfig('m.yaml', 'auths:\n  a:\n    telnet: {}\n', PROBERS), /auths\.a/);
  const ok = parseConfig('m.yaml', `${base}  m:\n    prober: paloalto-ssh\n    auth: a\n`, PROBERS);
  assert.equal(ok.modules.get('m')?.defaultAuth, 'a');
  assert.equal((ok.modules.get('m')?.options as { ssh: { username: string } } | undefined)?.ssh.username, 'u');
});
