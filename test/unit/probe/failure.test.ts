// Why a probe failed, as a bounded label: the classifier on its own, and through /probe
// against real servers that refuse, hang, present a key we do not trust, or reject a password.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildProbeMetrics } from '../../../src/exposition/probe-metrics.js';
import { classifyFailure, FAILURE_REASONS } from '../../../src/probe/failure.js';
import { AbortedError, ParseError, ProbeError, ProbeTimeoutError, ProtocolError, SizeLimitError } from '../../../src/util/errors.js';
import { sampleValue, startTestExporter, type TestExporter } from '../../support/exporter.js';
import { freePort } from '../../support/free-port.js';
import { startHostileSsh, type HostileSsh } from '../../support/hostile-ssh.js';

const errno = (code: string) => Object.assign(new Error(`connect ${code}`), { code });

test("the classifier: the thrower's kind first, then the type, then the causes, nearest first", () => {
  assert.equal(classifyFailure(new ProbeTimeoutError()), 'timeout');
  assert.equal(classifyFailure(new ProbeTimeoutError('PAN-OS CLI: waiting for the first CLI prompt: probe timed out')), 'timeout');
  assert.equal(classifyFailure(new AbortedError('the HTTP client went away')), 'cancelled');
  assert.equal(classifyFailure(new ParseError('x')), 'unparseable_output');
  assert.equal(classifyFailure(new ProtocolError('x')), 'protocol_error');
  assert.equal(classifyFailure(new SizeLimitError('x')), 'output_too_large');
  assert.equal(classifyFailure(new ProbeError('x', { kind: 'stale_data' })), 'stale_data');
  assert.equal(classifyFailure(new ProbeError('refused', { cause: errno('ECONNREFUSED') })), 'connection_refused');
  assert.equal(classifyFailure(new ProbeError('no name', { cause: errno('ENOTFOUND') })), 'dns');
  assert.equal(classifyFailure(new ProbeError('no route', { cause: errno('EHOSTUNREACH') })), 'unreachable');
  assert.equal(classifyFailure(new ProbeError('reset', { cause: errno('ECONNRESET') })), 'connection_lost');
  assert.equal(
    classifyFailure(
      new ProbeError('ssh', { cause: Object.assign(new Error('All configured authentication methods failed'), { level: 'client-authentication' }) }),
    ),
    'auth_failed',
  );
  // A kind stated on the outer error wins over what its cause would say.
  assert.equal(classifyFailure(new ProbeError('x', { kind: 'command_failed', cause: errno('EACCES') })), 'command_failed');
  // The nearest cause that says anything decides.
  assert.equal(classifyFailure(new ProbeError('a', { cause: new ProbeError('b', { cause: errno('EPIPE') }) })), 'connection_lost');
  assert.equal(classifyFailure(new ProbeError('nothing known')), 'other');
  assert.equal(classifyFailure(new TypeError('a bug')), 'internal_error');
  assert.equal(classifyFailure('a string'), 'internal_error');
  assert.equal(new Set(FAILURE_REASONS).size, FAILURE_REASONS.length);
});

let exporter: TestExporter;
let silent: HostileSsh;
let echo: HostileSsh;
let kbd: HostileSsh;
let closed: number;

before(async () => {
  [silent, echo, kbd, closed] = await Promise.all([
    startHostileSsh('silent'),
    startHostileSsh('echo'),
    startHostileSsh('kbd-only', 'right-password'),
    freePort(),
  ]);
  const wrongPin = `SHA256:${'A'.repeat(43)}`;
  const mod = (name: string, fingerprint: string, password: string, timeout = '3s') =>
    `  ${name}:\n    prober: openvpn-ssh\n    timeout: ${timeout}\n    ssh:\n      username: probe\n      password: ${password}\n` +
    `      host_key_fingerprints: ["${fingerprint}"]\n    status_files: [{name: s, path: /tmp/s}]\n`;
  exporter = await startTestExporter(
    'modules:\n' +
      mod('wrong_key', wrongPin, 'any-password') +
      mod('wrong_password', kbd.hostKeyFingerprint!, 'wrong-password') +
      mod('refused', wrongPin, 'x') +
      mod('hangs', wrongPin, 'x', '1s') +
      '  vici:\n    prober: strongswan-vici-tcp\n    timeout: 3s\n',
  );
});

after(async () => {
  await exporter?.close();
  await Promise.all([silent?.stop(), echo?.stop(), kbd?.stop()]);
});

async function reasonOf(module: string, target: string): Promise<string | undefined> {
  const text = await (await exporter.get(`/probe?module=${module}&target=${target}`)).text();
  assert.equal(sampleValue(text, 'probe_success'), 0, `${module}: ${text}`);
  const m = /^probe_failure_info\{reason="([a-z_]+)"\} 1$/m.exec(text);
  return m?.[1];
}

test('through /probe, each failure carries its reason, and /metrics counts failures by reason', async () => {
  assert.equal(await reasonOf('wrong_key', `127.0.0.1:${echo.port}`), 'host_key_mismatch');
  assert.equal(await reasonOf('wrong_password', `127.0.0.1:${kbd.port}`), 'auth_failed');
  assert.equal(await reasonOf('refused', `127.0.0.1:${closed}`), 'connection_refused');
  assert.equal(await reasonOf('vici', `127.0.0.1:${closed}`), 'connection_refused');
  assert.equal(await reasonOf('hangs', `127.0.0.1:${silent.port}`), 'timeout');
  const metrics = await (await exporter.get('/metrics')).text();
  assert.equal(sampleValue(metrics, 'vpn_exporter_probe_failures_total{module="wrong_password",reason="auth_failed"}'), 1);
  assert.equal(sampleValue(metrics, 'vpn_exporter_probe_failures_total{module="hangs",reason="timeout"}'), 1);
  // The history page shows the reason beside the human text.
  const history = await (await exporter.get('/history')).text();
  assert.match(history, /host_key_mismatch/);
});

test('only a failed probe has the failure series, with exactly one reason', () => {
  const ok = buildProbeMetrics({ success: true, durationSeconds: 0.1, failureReason: 'timeout' }).render();
  assert.doesNotMatch(ok, /probe_failure_info/);
  const failed = buildProbeMetrics({ success: false, durationSeconds: 0.1, failureReason: 'dns' }).render();
  assert.equal([...failed.matchAll(/^probe_failure_info\{/gm)].length, 1);
  assert.equal(sampleValue(failed, 'probe_failure_info{reason="dns"}'), 1);
});
