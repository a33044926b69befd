// One gateway fetch per (module, target) at a time, and min_interval, against the PAN-OS
// emulator: a real ssh2 server that counts the shells it opens and the commands it runs.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { scenario, SCENARIOS, startPanosEmulator, tunnel, type PanosEmulator } from '../../support/panos-emulator/index.js';
import { sampleValue, startTestExporter, type TestExporter } from '../../support/exporter.js';

const PASSWORD_ENV = 'VPNX_SHARING_TEST_PASSWORD';
// Slow enough that probes sent together overlap, even on a loaded machine.
const SLOW = scenario({ promptDelayMs: 1500, tunnels: [tunnel(1, 'to-dc1', 'active')] });

let slow: PanosEmulator;
let fast: PanosEmulator;
let exporter: TestExporter;

const mod = (name: string, emu: PanosEmulator, extra = '') =>
  `  ${name}:\n    prober: paloalto-ssh\n    timeout: 20s\n${extra}    ssh:\n      username: ${emu.username}\n` +
  `      password: {env: ${PASSWORD_ENV}}\n      host_key_fingerprints: ["${emu.hostKeyFingerprint}"]\n`;

before(async () => {
  [slow, fast] = await Promise.all([startPanosEmulator(SLOW), startPanosEmulator(SCENARIOS.allActive)]);
  process.env[PASSWORD_ENV] = slow.password;
  exporter = await startTestExporter(
    'modules:\n' +
      mod('pan', slow) +
      mod('pan_again', slow) +
      mod('pan_cached', fast, '    min_interval: 1m\n') +
      mod('pan_short', fast, '    min_interval: 1s\n'),
    { maxPerTarget: 8 },
  );
});

after(async () => {
  await exporter?.close();
  await Promise.all([slow?.close(), fast?.close()]);
  delete process.env[PASSWORD_ENV];
});

const probe = async (module: string, emu: PanosEmulator, extra = '') =>
  (await exporter.get(`/probe?module=${module}&target=127.0.0.1:${emu.port}${extra}`)).text();

test('probes of one module and target at the same moment share one gateway fetch', async () => {
  const before = slow.requests().shell;
  const answers = await Promise.all([1, 2, 3, 4].map(() => probe('pan', slow)));
  for (const a of answers) {
    assert.equal(sampleValue(a, 'probe_success'), 1, a);
    assert.equal(sampleValue(a, 'vpn_tunnel_up{tunnel="to-dc1",kind="site-to-site"}'), 1);
    assert.equal(sampleValue(a, 'probe_result_age_seconds'), undefined, "a shared fetch is this moment's answer");
  }
  assert.equal(slow.requests().shell - before, 1, 'one CLI session for four probes');
  const metrics = await (await exporter.get('/metrics')).text();
  assert.equal(sampleValue(metrics, 'vpn_exporter_probes_shared_total{module="pan",source="joined"}'), 3);
  assert.equal(sampleValue(metrics, 'vpn_exporter_probes_total{module="pan",result="success"}'), 4);
});

test('another module on the same target fetches on its own: the key is (module, target)', async () => {
  const before = slow.requests().shell;
  const [a, b] = await Promise.all([probe('pan', slow), probe('pan_again', slow)]);
  assert.equal(sampleValue(a, 'probe_success'), 1);
  assert.equal(sampleValue(b, 'probe_success'), 1);
  assert.equal(slow.requests().shell - before, 2);
});

test('min_interval answers from the last fetch, says how old it is, and fetches again after it', async () => {
  const first = await probe('pan_cached', fast);
  assert.equal(sampleValue(first, 'probe_success'), 1);
  const shells = fast.requests().shell;
  const second = await probe('pan_cached', fast, '&debug=true');
  assert.equal(fast.requests().shell, shells, 'no new CLI session within min_interval');
  assert.match(second, /answered from a recent fetch \(min_interval\)/);
  const age = sampleValue(second, 'probe_result_age_seconds');
  assert.ok(age !== undefined && age >= 0 && age < 60, `age ${age}`);
  assert.equal(sampleValue(second, 'vpn_tunnel_up{tunnel="to-dc1",kind="site-to-site"}'), 1);
  const api = (await (await exporter.get(`/api/probe?module=pan_cached&target=127.0.0.1:${fast.port}`)).json()) as { source: string; ageSeconds: number };
  assert.equal(api.source, 'recent');
  assert.ok(api.ageSeconds >= 0);

  // A 1 s interval: the next probe after it fetches again (waits 10x what the interval needs at most).
  await probe('pan_short', fast);
  const afterFirst = fast.requests().shell;
  await new Promise((r) => setTimeout(r, 1100));
  const fresh = await probe('pan_short', fast);
  assert.equal(sampleValue(fresh, 'probe_result_age_seconds'), undefined);
  assert.equal(fast.requests().shell, afterFirst + 1);
});

test('min_interval is validated: at most 10m', async () => {
  const { parseConfig } = await import('../../../src/config/modules.js');
  const { PROBERS } = await import('../../../src/probers.js');
  assert.throws(
    () => parseConfig('m.yaml', 'modules:\n  v:\n    prober: strongswan-vici-tcp\n    min_interval: 11m\n', PROBERS),
    /min_interval is at most 10m/,
  );
  assert.equal(parseConfig('m.yaml', 'modules:\n  v:\n    prober: strongswan-vici-tcp\n', PROBERS).modules.get('v')?.minIntervalMs, 0);
});
