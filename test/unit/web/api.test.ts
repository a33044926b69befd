import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ScriptedViciServer } from '../../support/vici-server.js';
import { startCharonLike } from '../../support/charon-like.js';
import { sampleValue, startTestExporter, type TestExporter } from '../../support/exporter.js';
import { freePort } from '../../support/free-port.js';

let exporter: TestExporter;
let charon: ScriptedViciServer;
let target: string;
let closedTarget: string;

const SEED_FIELDS = [
  'server',
  'protocol',
  'uniqueid',
  'state',
  'remotehost',
  'remoteport',
  'remoteid',
  'remotets',
  'localts',
  'established',
  'bytesin',
  'bytesout',
  'packetsin',
  'packetsout',
];

before(async () => {
  charon = await startCharonLike(3);
  exporter = await startTestExporter('modules:\n  vici:\n    prober: strongswan-vici-tcp\n    timeout: 2s\n');
  target = `127.0.0.1:${charon.port}`;
  closedTarget = `127.0.0.1:${await freePort()}`;
});
after(async () => {
  await exporter.close();
  await charon.close();
});

async function json(path: string): Promise<{ status: number; body: any; res: Response }> {
  const res = await exporter.get(path);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/, path);
  return { status: res.status, body: await res.json(), res };
}

test('/api/probe answers the whole snapshot, the outcome and the id of its log', async () => {
  const { status, body, res } = await json(`/api/probe?module=vici&target=${target}`);
  assert.equal(status, 200);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  assert.equal(body.success, true);
  assert.equal(body.reason, null);
  assert.equal(body.module, 'vici');
  assert.equal(body.prober, 'strongswan-vici-tcp');
  assert.equal(body.target, target);
  assert.ok(body.durationSeconds > 0 && body.durationSeconds < 2);
  assert.ok(Math.abs(Date.parse(body.time) - Date.now()) < 5000);
  assert.equal(body.snapshot.info.product, 'charon');
  assert.equal(body.snapshot.sessions.length, 3);
  assert.deepEqual(body.snapshot.tunnels.map((t: { name: string }) => t.name).sort(), ['rw-1', 'rw-eap', 'site-0', 'site-2']);
  assert.equal(body.snapshot.strongswan.ikeSas.length, 3);
  assert.equal(sampleValue(body.metrics, 'probe_success'), 1);
  assert.match(body.metrics, /^vpn_tunnel_up\{/m);

  const log = await (await exporter.get(`/logs?id=${body.id}`)).text();
  assert.match(log, /\+\d+\.\d{3}s info {2}probe succeeded/);
});

test('/sessions answers a list with the seed fields as strings and our typed fields', async () => {
  const t0 = Date.now();
  const { status, body } = await json(`/sessions?module=vici&target=${target}`);
  assert.equal(status, 200);
  assert.ok(Array.isArray(body));
  assert.equal(body.length, 3);
  for (const row of body) {
    for (const f of SEED_FIELDS) assert.equal(typeof row[f], 'string', `${f} of ${row.uniqueid}`);
    assert.equal(row.server, '127.0.0.1', 'the VICI gateway tells no host name: the probed host stands in');
    assert.equal(row.protocol, 'ikev2');
    const established = Date.parse(row.established);
    assert.match(row.established, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.ok(Math.abs(t0 - row.connectedSeconds * 1000 - established) < 3000, row.established);
    assert.equal(row.bytesin, String(row.traffic.bytesIn));
  }
  const rw = body.find((r: { tunnel: string }) => r.tunnel === 'rw-eap');
  assert.equal(rw.user, 'user1@eap.example');
  assert.equal(rw.remoteid, 'user1');
  assert.equal(rw.remotehost, '203.0.113.2');
  assert.equal(rw.remoteport, '4500');
  assert.equal(rw.remotets, '198.51.100.2/32');
  assert.equal(rw.localts, '10.1.0.0/24');
  assert.deepEqual(rw.virtualAddresses, ['198.51.100.2']);
  assert.deepEqual(rw.trafficSelectors, { local: ['10.1.0.0/24'], remote: ['198.51.100.2/32'] });
  const site2 = body.find((r: { tunnel: string }) => r.tunnel === 'site-2');
  assert.deepEqual(
    { bytesin: site2.bytesin, bytesout: site2.bytesout, packetsin: site2.packetsin, packetsout: site2.packetsout },
    { bytesin: '2965', bytesout: '4505', packetsin: '7', packetsout: '7' },
  );
  assert.deepEqual(site2.traffic, { bytesIn: 2965, bytesOut: 4505, packetsIn: 7, packetsOut: 7 });
});

test('bad requests are 400s with a JSON reason, and nothing is connected to', async () => {
  const before = charon.commands.length;
  const cases: [string, RegExp][] = [
    ['module=vici', /^target parameter is missing$/],
    [`target=${target}`, /^module parameter is missing$/],
    [`target=${target}&module=nope`, /^unknown module "nope"$/],
    [`target=${target}&target=${target}&module=vici`, /given 2 times/],
    ['target=%3Cscript%3Ealert(1)%3C%2Fscript%3E&module=vici', /^target "<script>alert\(1\)<\/script>" has an invalid host name$/],
    [`target=${'a'.repeat(400)}&module=vici`, /longer than 300/],
  ];
  for (const endpoint of ['/api/probe', '/sessions']) {
    for (const [query, reason] of cases) {
      const { status, body } = await json(`${endpoint}?${query}`);
      assert.equal(status, 400, `${endpoint}?${query}`);
      assert.deepEqual(Object.keys(body), ['error']);
      assert.match(body.error, reason, `${endpoint}?${query}`);
    }
  }
  assert.equal(charon.commands.length, before);
  const metrics = await (await exporter.get('/metrics')).text();
  assert.ok((sampleValue(metrics, 'vpn_exporter_probes_total{module="",result="rejected"}') ?? 0) >= cases.length * 2);
});

test('a failing target: /api/probe reports the failure, /sessions answers 502 with the reason', async () => {
  const api = await json(`/api/probe?module=vici&target=${closedTarget}`);
  assert.equal(api.status, 200);
  assert.equal(api.body.success, false);
  assert.match(api.body.reason, /refused/);
  assert.equal(api.body.failureReason, 'connection_refused');
  assert.equal(api.body.snapshot, null);
  assert.equal(sampleValue(api.body.metrics, 'probe_success'), 0);
  assert.equal(sampleValue(api.body.metrics, 'probe_failure_info{reason="connection_refused"}'), 1);
  assert.equal(typeof api.body.id, 'number');

  const sessions = await json(`/sessions?module=vici&target=${closedTarget}`);
  assert.equal(sessions.status, 502);
  assert.deepEqual(Object.keys(sessions.body), ['error']);
  assert.match(sessions.body.error, /refused/);
});

test('every probing endpoint records into the history, newest first', async () => {
  const before = (await json(`/api/probe?module=vici&target=${target}`)).body.id as number;
  await exporter.get(`/probe?module=vici&target=${target}`);
  await exporter.get(`/sessions?module=vici&target=${target}`);
  await exporter.get(`/sessions.html?module=vici&target=${target}`);
  const last = (await json(`/api/probe?module=vici&target=${closedTarget}`)).body.id as number;
  assert.equal(last, before + 4);
  const history = await (await exporter.get(`/history?target=${encodeURIComponent(target)}`)).text();
  const ids = [...history.matchAll(/href="logs\?id=(\d+)"/g)].map((m) => Number(m[1]));
  assert.deepEqual(ids.slice(0, 4), [before + 3, before + 2, before + 1, before]);
  // The filter is a substring match: the closed port's target could contain this one by chance.
  assert.equal(ids.includes(last), closedTarget.includes(target), 'the filter keeps only matching targets');
});
