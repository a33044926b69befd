// /api/fleet and /fleet, fed by real probes: a PAN-OS emulator (a real ssh2 server) reached with
// a named auth, the same device with the wrong password, a VICI server, and a refused port.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startCharonLike } from '../../support/charon-like.js';
import { startTestExporter, type TestExporter } from '../../support/exporter.js';
import { freePort } from '../../support/free-port.js';
import { SCENARIOS, startPanosEmulator, type PanosEmulator } from '../../support/panos-emulator/index.js';
import type { ScriptedViciServer } from '../../support/vici-server.js';

const PASSWORD = 'fleet-Secret-9157';
const WRONG = 'fleet-Wrong-2203';

let pan: PanosEmulator;
let charon: ScriptedViciServer;
let exporter: TestExporter;
let panTarget: string;
let viciTarget: string;
let closedTarget: string;

interface Answer {
  total: number;
  matched: number;
  failing: number;
  dropped: number;
  droppedIsLowerBound: boolean;
  maxEntries: number;
  modules: string[];
  sort: string;
  order: string;
  entries: {
    module: string;
    target: string;
    auth: string | null;
    success: boolean;
    failureReason: string | null;
    reason: string | null;
    source: string;
    time: string;
    durationSeconds: number;
    tunnels: { up: number; down: number; standby: number; unknown: number } | null;
    users: number | null;
    logId: number;
    logKept: boolean;
  }[];
}

async function fleet(query = ''): Promise<Answer> {
  const res = await exporter.get(`/api/fleet${query}`);
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal(res.headers.get('cache-control'), 'no-store');
  return (await res.json()) as Answer;
}

const row = (a: Answer, target: string, auth: string | null = null) => a.entries.find((e) => e.target === target && e.auth === auth);

before(async () => {
  [pan, charon] = await Promise.all([startPanosEmulator({ ...SCENARIOS.someInactive, password: PASSWORD }), startCharonLike(3)]);
  const ssh = (password: string) =>
    `    ssh:\n      username: admin\n      password: ${password}\n      host_key_fingerprints: ["${pan.hostKeyFingerprint}"]\n`;
  exporter = await startTestExporter(
    `auths:\n  right:\n${ssh(PASSWORD)}  wrong:\n${ssh(WRONG)}modules:\n  pan:\n    prober: paloalto-ssh\n    timeout: 5s\n    auth: right\n  vici:\n    prober: strongswan-vici-tcp\n    timeout: 2s\n`,
  );
  panTarget = `127.0.0.1:${pan.port}`;
  viciTarget = `127.0.0.1:${charon.port}`;
  closedTarget = `127.0.0.1:${await freePort()}`;
});
after(async () => {
  await exporter?.close();
  await Promise.all([pan?.close(), charon?.close()]);
});

describe('fed by the probes that run', () => {
  test('empty before any probe', async () => {
    const a = await fleet();
    assert.equal(a.total, 0);
    assert.deepEqual(a.entries, []);
    assert.equal(a.dropped, 0);
    assert.equal(a.maxEntries, 10_000);
  });

  test('each (module, target, auth) is one row with its last result, counts and reason; the auth by name only', async () => {
    for (const q of [
      `module=pan&target=${panTarget}`,
      `module=pan&target=${panTarget}&auth=wrong`,
      `module=vici&target=${viciTarget}`,
      `module=vici&target=${closedTarget}`,
      `module=vici&target=${viciTarget}`,
    ]) {
      assert.equal((await exporter.get(`/probe?${q}`)).status, 200, q);
    }
    const commands = pan.commands().length;
    const a = await fleet();
    assert.equal(a.total, 4, 'the second VICI probe replaced the first');
    await exporter.get('/fleet');
    assert.equal(pan.commands().length, commands, 'reading the fleet runs nothing on any gateway');
    assert.ok(commands > 0);
    assert.equal(a.failing, 2);
    assert.deepEqual(a.modules, ['pan', 'vici']);

    const ok = row(a, panTarget, 'right');
    assert.equal(ok?.success, true);
    assert.deepEqual(ok?.tunnels, { up: 1, down: 2, standby: 0, unknown: 0 });
    assert.equal(typeof ok?.users, 'number');
    const denied = row(a, panTarget, 'wrong');
    assert.equal(denied?.success, false);
    assert.equal(denied?.failureReason, 'auth_failed');
    assert.equal(denied?.tunnels, null);
    const vici = row(a, viciTarget);
    assert.deepEqual(vici?.tunnels, { up: 3, down: 1, standby: 0, unknown: 0 });
    assert.equal(vici?.users, 3);
    assert.equal(vici?.source, 'fetched');
    assert.equal(row(a, closedTarget)?.failureReason, 'connection_refused');
    assert.match(row(a, closedTarget)?.reason ?? '', /refused/);
    for (const e of a.entries) {
      assert.ok(e.logKept);
      assert.ok(Math.abs(Date.parse(e.time) - Date.now()) < 60_000);
      assert.ok(e.durationSeconds > 0);
      const log = await exporter.get(`/logs?id=${e.logId}`);
      assert.equal(log.status, 200);
      assert.ok((await log.text()).includes(e.target), 'the log link is that probe');
    }
    // Neither password appears anywhere the fleet is shown.
    const everything = [JSON.stringify(a), await (await exporter.get('/fleet')).text(), await (await exporter.get('/assets/ui.js')).text()].join('\n');
    for (const secret of [PASSWORD, WRONG]) assert.ok(!everything.includes(secret), 'a password leaked');
  });

  test('filters: module, target text (case-insensitive), only failing', async () => {
    const byModule = await fleet('?module=pan');
    assert.deepEqual(
      byModule.entries.map((e) => e.module),
      ['pan', 'pan'],
    );
    assert.equal(byModule.matched, 2);
    assert.equal(byModule.total, 4);
    const failing = await fleet('?failing=true');
    assert.deepEqual(failing.entries.map((e) => e.failureReason).sort(), ['auth_failed', 'connection_refused']);
    const port = closedTarget.split(':')[1] as string;
    const byText = await fleet(`?target=${port}`);
    assert.deepEqual(
      byText.entries.map((e) => e.target),
      [closedTarget],
    );
    const none = await fleet('?target=NO-SUCH&module=vici');
    assert.equal(none.matched, 0);
    assert.deepEqual(none.entries, []);
  });

  test('sorts by each column: failures first by default, missing values last either way, ties by target', async () => {
    const byDefault = await fleet();
    assert.deepEqual(
      byDefault.entries.map((e) => e.failureReason),
      ['auth_failed', 'connection_refused', null, null],
    );
    for (const order of ['asc', 'desc']) {
      const users = await fleet(`?sort=users&order=${order}`);
      assert.equal(users.sort, 'users');
      const counts = users.entries.map((e) => e.users);
      assert.deepEqual(counts.slice(2), [null, null], `failed probes have no users and stay last (${order})`);
      const known = counts.slice(0, 2) as number[];
      assert.deepEqual(
        known,
        [...known].sort((x, y) => (order === 'asc' ? x - y : y - x)),
      );
    }
    const targets = (await fleet('?sort=target&order=desc')).entries.map((e) => e.target);
    assert.deepEqual(targets, [...targets].sort().reverse());
    const down = (await fleet('?sort=down&order=desc')).entries.map((e) => e.tunnels?.down ?? null);
    assert.deepEqual(down, [2, 1, null, null]);
    for (const key of ['module', 'auth', 'result', 'up', 'expiry', 'time', 'duration', 'source']) {
      assert.equal((await fleet(`?sort=${key}`)).entries.length, 4, key);
    }
    assert.equal((await fleet('?limit=1')).entries.length, 1);
    assert.equal((await fleet('?limit=1')).matched, 4);
  });

  test('a bad query is a 400 saying which parameter', async () => {
    for (const [q, why] of [
      ['?sort=password', /sort must be one of target, module/],
      ['?order=up', /order must be asc or desc/],
      ['?limit=0', /limit must be a whole number from 1 to 10000/],
      ['?limit=10001', /limit must be/],
      ['?limit=1e3', /limit must be/],
      ['?failing=maybe', /failing must be true or false/],
      ['?module=a&module=b', /module is given more than once/],
      [`?target=${'x'.repeat(301)}`, /target is longer than 300/],
    ] as const) {
      const res = await exporter.get(`/api/fleet${q}`);
      assert.equal(res.status, 400, q);
      assert.match(((await res.json()) as { error: string }).error, why, q);
    }
  });

  test('/fleet is a page under the page policy, linked from every page, its form set from the URL', async () => {
    const res = await exporter.get(`/fleet?module=vici&target=${encodeURIComponent('<b>"x')}&failing=true`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    const html = await res.text();
    assert.match(html, /<a href="fleet" aria-current="page">Fleet<\/a>/);
    assert.match(html, /<option value="vici" selected>vici<\/option>/);
    assert.match(html, /id="fleet-target"[^>]* value="&lt;b&gt;&quot;x"/);
    assert.match(html, /id="fleet-failing"[^>]* checked/);
    assert.ok(!/<script>/.test(html), 'no inline script');
    assert.match(await (await exporter.get('/')).text(), /<a href="fleet">Fleet<\/a>/);
  });
});

describe('beyond --fleet.max-targets', () => {
  let small: TestExporter;
  before(async () => {
    small = await startTestExporter('modules:\n  vici:\n    prober: strongswan-vici-tcp\n    timeout: 2s\n', { fleetMaxTargets: 3 });
  });
  after(async () => {
    await small?.close();
  });

  test('the least recently probed are dropped first, and counted', async () => {
    const targets = await Promise.all([1, 2, 3, 4, 5].map(async () => `127.0.0.1:${await freePort()}`));
    for (const t of targets) await small.get(`/probe?module=vici&target=${t}`);
    const a = (await (await small.get('/api/fleet?sort=time&order=asc')).json()) as Answer;
    assert.equal(a.maxEntries, 3);
    assert.equal(a.total, 3);
    assert.equal(a.dropped, 2);
    assert.deepEqual(
      a.entries.map((e) => e.target),
      targets.slice(2),
    );
    // A dropped target probed again is back, and another goes.
    await small.get(`/probe?module=vici&target=${targets[0]}`);
    const b = (await (await small.get('/api/fleet')).json()) as Answer;
    assert.equal(b.dropped, 2);
    assert.ok(b.entries.some((e) => e.target === targets[0]));
    assert.ok(!b.entries.some((e) => e.target === targets[2]));
  });
});
