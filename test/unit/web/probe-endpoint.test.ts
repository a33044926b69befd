import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { Agent, get as httpGet } from 'node:http';
import { after, before, test } from 'node:test';
import { startViciServer, type ScriptedViciServer } from '../../support/vici-server.js';
import { startCharonLike } from '../../support/charon-like.js';
import { listSaEvents, statsResponse, versionResponse } from '../../support/charon-shapes.js';
import { sampleValue, startTestExporter, type TestExporter } from '../../support/exporter.js';
import { freePort } from '../../support/free-port.js';
import { waitFor } from '../../support/wait-for.js';

let exporter: TestExporter;
let charon: ScriptedViciServer;
let silent: ScriptedViciServer;

function charonLike(): Promise<ScriptedViciServer> {
  return startCharonLike(3);
}

const MODULES = `modules:
  vici:
    prober: strongswan-vici-tcp
    timeout: 1500ms
  vici_slow:
    prober: strongswan-vici-tcp
    timeout: 20s
`;

before(async () => {
  charon = await charonLike();
  silent = await startViciServer({ hostile: 'silent' });
  exporter = await startTestExporter(MODULES);
});
after(async () => {
  await exporter.close();
  await charon.close();
  await silent.close();
});

test('a probe answers probe_success 1, its duration and the core family', async () => {
  const res = await exporter.get(`/probe?module=vici&target=127.0.0.1:${charon.port}`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/plain; version=0\.0\.4/);
  const text = await res.text();
  assert.equal(sampleValue(text, 'probe_success'), 1);
  assert.ok((sampleValue(text, 'probe_duration_seconds') ?? -1) > 0);
  assert.match(text, /^vpn_info\{vendor="strongswan",product="charon",version="5\.9\.\d+"/m);
  assert.match(text, /^vpn_tunnel_up\{/m);
  // Every command pipelined on one connection, answered in the order sent.
  assert.deepEqual(charon.commands.slice(-6), ['version', 'stats', 'list-sas', 'list-conns', 'get-pools', 'list-certs']);
});

test('bad requests are 400s with a one-line reason, and nothing is connected to', async () => {
  const before = charon.commands.length;
  const cases: [string, RegExp][] = [
    ['/probe?module=vici', /^target parameter is missing\n$/],
    ['/probe?target=127.0.0.1', /^module parameter is missing\n$/],
    ['/probe?target=127.0.0.1&module=nope', /^unknown module "nope"\n$/],
    ['/probe?target=127.0.0.1&target=127.0.0.2&module=vici', /given 2 times/],
    ['/probe?target=a%20b&module=vici', /invalid host name/],
    ['/probe?target=127.0.0.1:99999&module=vici', /outside 1-65535/],
    [`/probe?target=${'a'.repeat(5000)}&module=vici`, /longer than 300/],
    ['/probe?target=127.0.0.1&module=vici&debug=maybe', /debug must be true or false/],
  ];
  for (const [path, reason] of cases) {
    const res = await exporter.get(path);
    assert.equal(res.status, 400, path);
    assert.match(await res.text(), reason, path);
  }
  const bad = await exporter.get(`/probe?target=127.0.0.1:${charon.port}&module=vici`, {
    headers: { 'X-Prometheus-Scrape-Timeout-Seconds': 'soon' },
  });
  assert.equal(bad.status, 400);
  assert.equal(charon.commands.length, before);
});

test('a silent server fails the probe at the module timeout, with the reason in the log', async () => {
  const t0 = performance.now();
  const res = await exporter.get(`/probe?module=vici&target=127.0.0.1:${silent.port}&debug=true`);
  const elapsed = (performance.now() - t0) / 1000;
  const text = await res.text();
  assert.equal(res.status, 200);
  // At the 1.5 s timeout, not before; ten times that at most on a loaded machine.
  assert.ok(elapsed >= 1.4 && elapsed < 15, `took ${elapsed}s`);
  assert.match(text, /probe_success 0/);
  assert.match(text, /probe failed reason="probe timed out"|probe failed reason=.*timed out/);
  assert.match(text, /Module configuration \(vici\)/);
  // Nothing left open on the server side once the probe has failed.
  await waitFor('the silent gateway to see every connection closed', () => silent.openConnections() === 0);
});

test('the scrape-timeout header caps the budget (less the offset)', async () => {
  const t0 = performance.now();
  const res = await exporter.get(`/probe?module=vici_slow&target=127.0.0.1:${silent.port}`, {
    headers: { 'X-Prometheus-Scrape-Timeout-Seconds': '1.5' },
  });
  const elapsed = (performance.now() - t0) / 1000;
  assert.equal(sampleValue(await res.text(), 'probe_success'), 0);
  // ~1 s, not the module's 20 s: ten times the capped budget still tells them apart.
  assert.ok(elapsed >= 0.9 && elapsed < 10, `took ${elapsed}s, expected ~1s`);
});

test('a port with nothing listening fails fast with the reason', async () => {
  const closed = await freePort();
  const t0 = performance.now();
  const res = await exporter.get(`/probe?module=vici&target=127.0.0.1:${closed}&debug=true`);
  const text = await res.text();
  assert.ok(performance.now() - t0 < 1000);
  assert.match(text, /probe_success 0/);
  assert.match(text, /refused/);
});

test('a client that disconnects mid-probe cancels it: the gateway connection closes', async () => {
  const ac = new AbortController();
  const pending = exporter.get(`/probe?module=vici_slow&target=127.0.0.1:${silent.port}`, { signal: ac.signal });
  // All of a probe's commands share one connection.
  await waitFor('the probe to hold its connection', () => silent.openConnections() === 1);
  ac.abort();
  await assert.rejects(pending);
  await waitFor('the silent gateway to see every connection closed', () => silent.openConnections() === 0);
});

test('/metrics counts probes by module and result; health and readiness answer', async () => {
  const text = await (await exporter.get('/metrics')).text();
  assert.ok((sampleValue(text, 'vpn_exporter_probes_total{module="vici",result="success"}') ?? 0) >= 1);
  assert.ok((sampleValue(text, 'vpn_exporter_probes_total{module="vici",result="failure"}') ?? 0) >= 1);
  assert.match(text, /^vpn_exporter_probe_duration_seconds_bucket\{le="0\.1",module="vici"\}/m);
  assert.match(text, /^vpn_exporter_build_info\{version="\d+\.\d+\.\d+"/m);
  assert.match(text, /^process_resident_memory_bytes /m);
  assert.equal((await exporter.get('/-/healthy')).status, 200);
  assert.equal((await exporter.get('/-/ready')).status, 200);
});

test('a bad reload keeps the previous configuration and shows in the reload gauge', async () => {
  writeFileSync(exporter.configFile, 'modules:\n  vici:\n    prober: strongswan-vici-tcp\n    timeout: never\n');
  const res = await exporter.get('/-/reload', { method: 'POST' });
  assert.equal(res.status, 500);
  assert.match(await res.text(), /modules\.vici\.timeout: invalid duration "never"/);
  let metrics = await (await exporter.get('/metrics')).text();
  assert.equal(sampleValue(metrics, 'vpn_exporter_config_last_reload_successful'), 0);
  const still = await exporter.get(`/probe?module=vici_slow&target=127.0.0.1:${charon.port}`);
  assert.equal(sampleValue(await still.text(), 'probe_success'), 1);
  assert.ok(exporter.logs.some((l) => /configuration reload failed/.test(l)));

  writeFileSync(exporter.configFile, MODULES.replace('vici_slow', 'vici_renamed'));
  assert.equal((await exporter.get('/-/reload', { method: 'POST' })).status, 200);
  metrics = await (await exporter.get('/metrics')).text();
  assert.equal(sampleValue(metrics, 'vpn_exporter_config_last_reload_successful'), 1);
  assert.equal((await exporter.get(`/probe?module=vici_slow&target=127.0.0.1:${charon.port}`)).status, 400);
  writeFileSync(exporter.configFile, MODULES);
  await exporter.get('/-/reload', { method: 'POST' });
});

test('every log line of a probe names its module and target', async () => {
  await exporter.get(`/probe?module=vici&target=127.0.0.1:${charon.port}`);
  const probeLines = exporter.logs.filter((l) => /msg="probe (started|succeeded|failed)"/.test(l));
  assert.ok(probeLines.length >= 2);
  for (const l of probeLines) assert.match(l, / module=vici[a-z_]* target=127\.0\.0\.1:\d+ /);
});

test("a target outside the module's allowed_targets is a 403 on every endpoint and is never connected to", async () => {
  const fenced = await startTestExporter(`modules:
  fenced:
    prober: strongswan-vici-tcp
    allowed_targets: ["192.0.2.0/24", "127.0.0.1:${charon.port}"]
`);
  try {
    const before = charon.commands.length;
    for (const path of ['/probe', '/api/probe', '/sessions', '/sessions.html']) {
      const res = await fenced.get(`${path}?module=fenced&target=127.0.0.2:${charon.port}`);
      assert.equal(res.status, 403, path);
      assert.match(await res.text(), /target 127\.0\.0\.2:\d+ is not in this module(?:'|&#39;)s allowed_targets/, path);
    }
    assert.equal(charon.commands.length, before);
    const ok = await fenced.get(`/probe?module=fenced&target=127.0.0.1:${charon.port}`);
    assert.equal(sampleValue(await ok.text(), 'probe_success'), 1);
    const metrics = await (await fenced.get('/metrics')).text();
    assert.equal(sampleValue(metrics, 'vpn_exporter_probes_total{module="",result="rejected"}'), 4);
  } finally {
    await fenced.close();
  }
});

test('one failing command fails the probe and its connection is closed: nothing outlives the probe', async () => {
  const broken = await startViciServer({
    commands: {
      version: () => ({ response: versionResponse() }),
      stats: () => ({ response: statsResponse(3) }),
      'list-sas': () => ({ response: {}, events: listSaEvents(3), eventName: 'list-sa' }),
      // list-conns and get-pools unknown: CMD_UNKNOWN.
    },
  });
  try {
    const res = await exporter.get(`/probe?module=vici_slow&target=127.0.0.1:${broken.port}&debug=true`);
    const text = await res.text();
    assert.match(text, /probe_success 0/);
    assert.match(text, /unknown command (list-conns|get-pools)/);
    await waitFor('the broken gateway to see every connection closed', () => broken.openConnections() === 0);
  } finally {
    await broken.close();
  }
});

test('a client that goes away is named as the reason in the probe log', async () => {
  const ac = new AbortController();
  const pending = exporter.get(`/probe?module=vici_slow&target=127.0.0.1:${silent.port}`, { signal: ac.signal });
  // All of a probe's commands share one connection.
  await waitFor('the probe to hold its connection', () => silent.openConnections() === 1);
  ac.abort();
  await assert.rejects(pending);
  await waitFor('the cancelled probe in the log', () =>
    exporter.logs.some((l) => /msg="probe failed"/.test(l) && /HTTP client went away after \d+\.\ds; probe cancelled/.test(l)),
  );
});

test("an idle scrape connection is kept between scrapes, past Node's 5 s default", async () => {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const scrape = () =>
    new Promise<{ port: number; keepAlive: string; body: string }>((resolve, reject) => {
      const req = httpGet(`${exporter.url}/probe?module=vici&target=127.0.0.1:${charon.port}`, { agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ port: req.socket!.localPort!, keepAlive: String(res.headers['keep-alive']), body }));
      });
      req.on('error', reject);
    });
  try {
    const first = await scrape();
    assert.equal(sampleValue(first.body, 'probe_success'), 1);
    assert.equal(first.keepAlive, 'timeout=300');
    await new Promise((r) => setTimeout(r, 6000));
    const second = await scrape();
    assert.equal(sampleValue(second.body, 'probe_success'), 1);
    assert.equal(second.port, first.port, 'the same connection served both scrapes');
  } finally {
    agent.destroy();
  }
});

test('a large answer (over 1 MiB, streamed in its chunks) arrives whole, with its Content-Length', async () => {
  const big = await startCharonLike(3000);
  try {
    const res = await exporter.get(`/probe?module=vici_slow&target=127.0.0.1:${big.port}`);
    const bytes = Buffer.from(await res.arrayBuffer());
    assert.ok(bytes.length > 1 << 20, `${bytes.length} bytes: the streamed path needs more than 1 MiB`);
    assert.equal(res.headers.get('content-length'), String(bytes.length));
    const text = bytes.toString('utf8');
    assert.equal(sampleValue(text, 'probe_success'), 1);
    assert.ok(text.endsWith('\n'));
    const lines = text.slice(0, -1).split('\n');
    // Every line whole: a comment, or a sample with its value (a chunk boundary inside a line would break one).
    for (const line of lines)
      assert.match(line, /^(# (HELP|TYPE) \S+ .*|[a-zA-Z_:][\w:]*(\{.*\})? -?[\d.e+-]+|[a-zA-Z_:][\w:]*(\{.*\})? (NaN|[+-]Inf))$/, line);
    // As many samples as the probe wrote, by its own count in the log.
    const counted = exporter.logs.filter((l) => /msg="probe succeeded"/.test(l) && l.includes(`:${big.port} `)).map((l) => / series=(\d+)/.exec(l)?.[1]);
    assert.equal(counted.length, 1);
    assert.equal(lines.filter((l) => !l.startsWith('#')).length, Number(counted[0]));
    assert.ok(lines.filter((l) => l.startsWith('vpn_tunnel_up{')).length >= 3000);
  } finally {
    await big.close();
  }
});
