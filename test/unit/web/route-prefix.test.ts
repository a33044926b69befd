import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { parseFlags } from '../../../src/cli/flags.js';
import { startCharonLike } from '../../support/charon-like.js';
import type { ScriptedViciServer } from '../../support/vici-server.js';
import { sampleValue, startTestExporter, type TestExporter } from '../../support/exporter.js';

let exporter: TestExporter;
let charon: ScriptedViciServer;

before(async () => {
  charon = await startCharonLike(2);
  exporter = await startTestExporter('modules:\n  vici:\n    prober: strongswan-vici-tcp\n', { routePrefix: '/vpn' });
});
after(async () => {
  await exporter.close();
  await charon.close();
});

test('behind a proxy path every route sits under the prefix, and nothing outside it answers', async () => {
  const probe = await exporter.get(`/vpn/probe?module=vici&target=127.0.0.1:${charon.port}`);
  assert.equal(sampleValue(await probe.text(), 'probe_success'), 1);
  const status = async (path: string) => {
    const res = await exporter.get(path);
    await res.arrayBuffer();
    return res.status;
  };
  assert.equal(await status('/vpn/metrics'), 200);
  assert.equal(await status('/vpn/-/healthy'), 200);
  assert.equal(await status('/vpn/api/probe?module=vici&target=nope..'), 400);
  for (const outside of ['/probe', '/metrics', '/', '/vpnx/metrics']) assert.equal(await status(outside), 404, outside);
});

test("the bare prefix redirects to its slash form so the page's relative links resolve", async () => {
  const res = await exporter.get('/vpn?target=192.0.2.1&module=vici', { redirect: 'manual' });
  assert.equal(res.status, 308);
  assert.equal(res.headers.get('location'), '/vpn/?target=192.0.2.1&module=vici');
  await res.arrayBuffer();
  const page = await exporter.get('/vpn/');
  assert.equal(page.status, 200);
  assert.match(await page.text(), /href="assets\/ui\.css"/);
  const script = await exporter.get('/vpn/assets/ui.js');
  assert.equal(script.status, 200);
  assert.match(await script.text(), /api\/probe\?/);
});

test('the prefix comes from --web.route-prefix, else the path of --web.external-url', () => {
  const a = parseFlags(['--web.external-url=https://ops.example.net/tools/vpn/']);
  assert.ok(typeof a === 'object');
  assert.equal(a.routePrefix, '/tools/vpn');
  assert.equal(a.externalUrl, 'https://ops.example.net/tools/vpn/');
  const b = parseFlags(['--web.external-url=https://ops.example.net/tools/vpn/', '--web.route-prefix=/']);
  assert.ok(typeof b === 'object');
  assert.equal(b.routePrefix, '');
  const c = parseFlags([]);
  assert.ok(typeof c === 'object');
  assert.equal(c.routePrefix, '');
  assert.throws(() => parseFlags(['--web.external-url=not a url']), /not an absolute URL/);
  assert.throws(() => parseFlags(['--web.route-prefix=/a b']), /must be a path/);
});
