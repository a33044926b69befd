import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { parseFlags } from '../../../src/cli/flags.js';
import { ProbeLimits, targetKey, type ProbeSlot } from '../../../src/probe/limits.js';
import type { Target } from '../../../src/probe/prober.js';
import { ProbeRefusal } from '../../../src/probe/refusal.js';
import { parseTarget } from '../../../src/probe/target.js';
import { sampleValue, startTestExporter, type TestExporter } from '../../support/exporter.js';
import { scenario, startPanosEmulator } from '../../support/panos-emulator/index.js';
import { startViciServer, type ScriptedViciServer } from '../../support/vici-server.js';
import { startCharonLike } from '../../support/charon-like.js';
import { waitFor } from '../../support/wait-for.js';

function t(raw: string): Target {
  return parseTarget(raw, 4502);
}

/** A slot, or the 503 refusal acquire threw. */
function attempt(limits: ProbeLimits, target: Target, signal: AbortSignal, deadline: number): Promise<ProbeSlot | ProbeRefusal> {
  return Promise.resolve(limits.acquire(target, { signal, deadline })).catch((err: unknown) => {
    assert.ok(err instanceof ProbeRefusal && err.status === 503, String(err));
    return err;
  });
}

function isSlot(r: ProbeSlot | ProbeRefusal): r is ProbeSlot {
  return !(r instanceof ProbeRefusal);
}

/** Settled yet? Checked after the event loop had a turn. */
async function settled<T>(p: Promise<T>): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((r) => setImmediate(r));
  return done;
}

const far = () => performance.now() + 60_000;

test('targetKey: one key per gateway address, host names case-insensitive', () => {
  assert.equal(targetKey(t('GW1.Example.NET.')), 'gw1.example.net:4502');
  assert.equal(targetKey(t('gw1.example.net:4502')), 'gw1.example.net:4502');
  assert.equal(targetKey(t('[2001:db8::1]:22')), '[2001:db8::1]:22');
  assert.notEqual(targetKey(t('gw1:22')), targetKey(t('gw1:4502')));
});

test('flags: --probe.max-concurrency and --probe.max-per-target, with defaults and checks', () => {
  const d = parseFlags([]);
  assert.ok(typeof d === 'object');
  assert.equal(d.maxConcurrency, 200);
  assert.equal(d.maxPerTarget, 2);
  const f = parseFlags(['--probe.max-concurrency=7', '--probe.max-per-target=1']);
  assert.ok(typeof f === 'object');
  assert.equal(f.maxConcurrency, 7);
  assert.equal(f.maxPerTarget, 1);
  for (const bad of ['0', '-2', '1.5', 'lots', '']) {
    assert.throws(() => parseFlags([`--probe.max-concurrency=${bad}`]), /--probe\.max-concurrency must be a whole number >= 1/, bad);
    assert.throws(() => parseFlags([`--probe.max-per-target=${bad}`]), /--probe\.max-per-target must be a whole number >= 1/, bad);
  }
  assert.throws(() => new ProbeLimits({ maxConcurrency: 0, maxPerTarget: 1 }), RangeError);
});

test('per-target cap: the third probe waits, and runs when a slot is released', async () => {
  const limits = new ProbeLimits({ maxConcurrency: 100, maxPerTarget: 2 });
  const signal = new AbortController().signal;
  const a = await attempt(limits, t('gw:1'), signal, far());
  const b = await attempt(limits, t('GW:1'), signal, far());
  assert.ok(isSlot(a) && isSlot(b));
  const third = attempt(limits, t('gw:1'), signal, far());
  // Another target is not held up by this one.
  const other = await attempt(limits, t('gw:2'), signal, far());
  assert.ok(isSlot(other));
  assert.equal(await settled(third), false);
  assert.deepEqual(limits.stats(), { running: 3, queued: 1, targets: 2 });
  a.release();
  a.release(); // twice is harmless
  const c = await third;
  assert.ok(isSlot(c));
  assert.ok(c.waitedMs >= 0);
  assert.deepEqual(limits.stats(), { running: 3, queued: 0, targets: 2 });
  for (const s of [b, c, other]) s.release();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(limits.stats(), { running: 0, queued: 0, targets: 0 });
});

test('a free slot is the slot itself, not a promise; a busy one is a promise that waits its turn', async () => {
  const limits = new ProbeLimits({ maxConcurrency: 2, maxPerTarget: 1 });
  const signal = new AbortController().signal;
  const deadline = performance.now() + 60_000;
  const first = limits.acquire(t('gw1'), { signal, deadline });
  assert.ok(!(first instanceof Promise), 'granted at once');
  assert.deepEqual(limits.stats(), { running: 1, queued: 0, targets: 1 });
  // gw1's own slot is taken: this one queues behind it.
  const second = limits.acquire(t('gw1'), { signal, deadline });
  assert.ok(second instanceof Promise);
  assert.deepEqual(limits.stats(), { running: 1, queued: 1, targets: 1 });
  // An aborted probe is never granted at once, even with slots free.
  const gone = new AbortController();
  gone.abort(new Error('gone'));
  const refused = await attempt(limits, t('gw2'), gone.signal, deadline);
  assert.ok(refused instanceof ProbeRefusal);
  first.release();
  first.release(); // a second release is a no-op
  const granted = await second;
  assert.deepEqual(limits.stats(), { running: 1, queued: 0, targets: 1 });
  granted.release();
  assert.deepEqual(limits.stats(), { running: 0, queued: 0, targets: 0 });
});

test('a queued probe never waits past its deadline: it is refused with the reason', async () => {
  const limits = new ProbeLimits({ maxConcurrency: 100, maxPerTarget: 1 });
  const held = await attempt(limits, t('gw:1'), new AbortController().signal, far());
  assert.ok(isSlot(held));
  const started = performance.now();
  const r = await attempt(limits, t('gw:1'), AbortSignal.timeout(200), performance.now() + 200);
  const took = performance.now() - started;
  assert.ok(!isSlot(r));
  assert.match(
    r.message,
    /^too many probes in flight for target gw:1 \(at most 1 at once, --probe\.max-per-target\): no slot freed up within the probe's budget/,
  );
  // Not before the deadline; after it by at most ten times the budget (a loaded machine).
  assert.ok(took >= 190 && took < 2000, `waited ${took} ms`);
  assert.equal(limits.stats().queued, 0);
  held.release();
  // The abandoned entry leaves p-limit's queue without holding the slot: the next probe runs at once.
  const next = await attempt(limits, t('gw:1'), new AbortController().signal, far());
  assert.ok(isSlot(next));
  next.release();
});

test('a queued probe whose client goes away leaves the queue at once', async () => {
  const limits = new ProbeLimits({ maxConcurrency: 100, maxPerTarget: 1 });
  const held = await attempt(limits, t('gw:1'), new AbortController().signal, far());
  assert.ok(isSlot(held));
  const client = new AbortController();
  const waiting = attempt(limits, t('gw:1'), client.signal, far());
  const behind = attempt(limits, t('gw:1'), new AbortController().signal, far());
  await new Promise((r) => setImmediate(r));
  assert.equal(limits.stats().queued, 2);
  client.abort(new Error('client disconnected'));
  const r = await waiting;
  assert.ok(!isSlot(r));
  assert.match(r.message, /gave up after waiting [\d.]+s: client disconnected/);
  assert.equal(limits.stats().queued, 1);
  held.release();
  // The one behind the leaver gets the slot, not the leaver.
  const b = await behind;
  assert.ok(isSlot(b));
  assert.equal(limits.stats().running, 1);
  b.release();
});

test('an already aborted signal is refused without queueing', async () => {
  const limits = new ProbeLimits({ maxConcurrency: 1, maxPerTarget: 1 });
  const held = await attempt(limits, t('gw:1'), new AbortController().signal, far());
  assert.ok(isSlot(held));
  const r = await attempt(limits, t('gw:1'), AbortSignal.abort(), far());
  assert.ok(!isSlot(r));
  assert.equal(limits.stats().queued, 0);
  held.release();
});

test('when the wait is predicted to outlast the deadline, the probe is refused at once', async () => {
  const limits = new ProbeLimits({ maxConcurrency: 100, maxPerTarget: 1 });
  const signal = new AbortController().signal;
  // Teach it that probes of gw:1 take ~300 ms.
  const first = await attempt(limits, t('gw:1'), signal, far());
  assert.ok(isSlot(first));
  await new Promise((r) => setTimeout(r, 300));
  first.release();
  const held = await attempt(limits, t('gw:1'), signal, far());
  assert.ok(isSlot(held));
  // 100 ms of budget cannot cover a ~300 ms wait: refused without waiting.
  const refusal = attempt(limits, t('gw:1'), signal, performance.now() + 100);
  assert.equal(await settled(refusal), true, 'refused at once, with no timer in between');
  const r = await refusal;
  assert.ok(!isSlot(r));
  // The taught ~300 ms may be longer on a loaded machine.
  assert.match(
    r.message,
    /^too many probes in flight for target gw:1 .*: the next free slot is expected in \d+\.\d\ds and its probes take \d+\.\d\ds, more than this probe's 0\.\d\ds budget$/,
  );
  // A budget that covers the predicted wait queues and gets the slot.
  const patient = attempt(limits, t('gw:1'), signal, performance.now() + 5000);
  assert.equal(await settled(patient), false);
  held.release();
  const p = await patient;
  assert.ok(isSlot(p));
  p.release();
});

test('global cap: probes of different targets share it, and it is taken after the target slot', async () => {
  const limits = new ProbeLimits({ maxConcurrency: 2, maxPerTarget: 2 });
  const signal = new AbortController().signal;
  const a = await attempt(limits, t('a:1'), signal, far());
  const b = await attempt(limits, t('b:1'), signal, far());
  assert.ok(isSlot(a) && isSlot(b));
  const c = attempt(limits, t('c:1'), signal, far());
  assert.equal(await settled(c), false);
  const timedOut = await attempt(limits, t('d:1'), AbortSignal.timeout(100), performance.now() + 100);
  assert.ok(!isSlot(timedOut));
  assert.match(timedOut.message, /^too many probes in flight for target d:1: all 2 probe slots of the exporter are busy \(--probe\.max-concurrency\)/);
  // d's target slot was given back when it gave up on the global one.
  assert.equal(limits.stats().targets, 3);
  b.release();
  const cs = await c;
  assert.ok(isSlot(cs));
  a.release();
  cs.release();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(limits.stats(), { running: 0, queued: 0, targets: 0 });
});

// Through the exporter: a silent VICI server counts the connections it holds at once. The VICI
// prober pipelines its commands on one connection, so one probe is 1 connection and one
// `version` command (the silent server answers nothing after it).
const PER_PROBE = 1;
const versions = (s: ScriptedViciServer) => s.commands.filter((c) => c === 'version').length;

let silent: ScriptedViciServer;
let silent2: ScriptedViciServer;
let silent3: ScriptedViciServer;
let charon: ScriptedViciServer;

before(async () => {
  silent = await startViciServer({ hostile: 'silent' });
  silent2 = await startViciServer({ hostile: 'silent' });
  silent3 = await startViciServer({ hostile: 'silent' });
  charon = await startCharonLike(1);
});
after(async () => {
  for (const s of [silent, silent2, silent3, charon]) await s.close();
});

// Probes of one module and target share one gateway fetch (sharing.test.ts): the caps govern
// distinct fetches, so each concurrent probe here names a module of its own (vici0 … vici7).
const MODULES = `modules:\n${Array.from({ length: 8 }, (_, i) => `  vici${i}:\n    prober: strongswan-vici-tcp\n    timeout: 1s\n`).join('')}`;
const sumOver = (text: string, series: (module: string) => string) =>
  Array.from({ length: 8 }, (_, i) => sampleValue(text, series(`vici${i}`)) ?? 0).reduce((a, b) => a + b, 0);

/** Samples `f` every 5 ms while `work` runs; returns the largest value seen. */
async function peakWhile(f: () => number, work: Promise<unknown>): Promise<number> {
  let peak = f();
  let running = true;
  void work.finally(() => (running = false));
  while (running) {
    peak = Math.max(peak, f());
    await new Promise((r) => setTimeout(r, 5));
  }
  return peak;
}

async function probeOnce(exporter: TestExporter, target: string, path = '/probe', i = 0): Promise<{ status: number; text: string; ms: number }> {
  const t0 = performance.now();
  const res = await exporter.get(`${path}?module=vici${i % 8}&target=${target}`);
  return { status: res.status, text: await res.text(), ms: performance.now() - t0 };
}

test('through the exporter: 8 probes at one silent gateway, at most 2 probes connected at once', async () => {
  const exporter = await startTestExporter(MODULES, { maxPerTarget: 2 });
  try {
    const target = `127.0.0.1:${silent.port}`;
    let queuedSeen = 0;
    const watchQueue = (async () => {
      for (let i = 0; i < 10; i++) {
        await new Promise((r) => setTimeout(r, 60));
        const m = await (await exporter.get('/metrics')).text();
        queuedSeen = Math.max(queuedSeen, sampleValue(m, 'vpn_exporter_probes_queued') ?? 0);
      }
    })();
    const asked = versions(silent);
    const all = Promise.all(Array.from({ length: 8 }, (_, i) => probeOnce(exporter, target, '/probe', i)));
    const peak = await peakWhile(() => silent.openConnections(), all);
    const results = await all;
    await watchQueue;
    assert.equal(peak, 2 * PER_PROBE, 'connections held by the gateway at once');
    assert.equal(versions(silent) - asked, 2, 'probes that reached the gateway');
    assert.equal(queuedSeen, 6, 'vpn_exporter_probes_queued while they waited');
    const ran = results.filter((r) => r.status === 200);
    const throttled = results.filter((r) => r.status === 503);
    assert.equal(ran.length + throttled.length, 8);
    assert.equal(ran.length, 2, 'the two that got slots ran to their timeout');
    for (const r of ran) assert.match(r.text, /^probe_success 0$/m);
    for (const r of throttled) assert.match(r.text, new RegExp(`^too many probes in flight for target ${target.replace(/\./g, '\\.')} `));
    // Nobody waits for ever: ten times its own deadline (1 s) at most, for a loaded machine.
    for (const r of results) assert.ok(r.ms < 10_000, `answered after ${r.ms} ms`);
    const metrics = await (await exporter.get('/metrics')).text();
    assert.equal(
      sumOver(metrics, (m) => `vpn_exporter_probes_total{module="${m}",result="throttled"}`),
      6,
    );
    assert.equal(sampleValue(metrics, 'vpn_exporter_probes_queued'), 0);
    assert.match(metrics, /^# HELP vpn_exporter_probes_queued /m);
    // Now that the exporter has seen this gateway's probes take their whole budget, a storm is refused fast.
    const again = await Promise.all(Array.from({ length: 6 }, (_, i) => probeOnce(exporter, target, '/api/probe', i)));
    // Refused on the prediction (no waiting for a slot), which the reason names.
    const fast = again.filter((r) => r.status === 503 && /too many probes in flight .*expected in/.test(JSON.parse(r.text).error));
    assert.equal(fast.length, 4, `refusals on the prediction: ${JSON.stringify(again.map((r) => [r.status, r.text.slice(0, 120)]))}`);
    // Meanwhile a healthy gateway is not held up.
    const good = await probeOnce(exporter, `127.0.0.1:${charon.port}`);
    assert.equal(good.status, 200);
    assert.match(good.text, /^probe_success 1$/m);
  } finally {
    await exporter.close();
  }
});

test('through the exporter: the global cap spans targets', async () => {
  const exporter = await startTestExporter(MODULES, { maxConcurrency: 2, maxPerTarget: 5 });
  try {
    const servers = [silent, silent2, silent3];
    const asked = servers.reduce((n, s) => n + versions(s), 0);
    const all = Promise.all(servers.flatMap((s) => [0, 1].map((i) => probeOnce(exporter, `127.0.0.1:${s.port}`, '/sessions', i))));
    const peak = await peakWhile(() => servers.reduce((n, s) => n + s.openConnections(), 0), all);
    const results = await all;
    assert.equal(peak, 2 * PER_PROBE);
    assert.equal(servers.reduce((n, s) => n + versions(s), 0) - asked, 2, 'probes that reached a gateway');
    assert.equal(results.filter((r) => r.status === 502).length, 2, 'the two that ran failed at their timeout');
    const throttled = results.filter((r) => r.status === 503);
    assert.equal(throttled.length, 4);
    for (const r of throttled) assert.match(JSON.parse(r.text).error, /all 2 probe slots of the exporter are busy/);
    for (const r of results) assert.ok(r.ms < 10_000, `answered after ${r.ms} ms`);
  } finally {
    await exporter.close();
  }
});

test('through the exporter: a waiting probe whose client disconnects leaves the queue and never connects', async () => {
  const exporter = await startTestExporter(MODULES.replace('1s', '5s'), { maxPerTarget: 1 });
  try {
    const target = `127.0.0.1:${silent.port}`;
    const holder = new AbortController();
    const running = exporter.get(`/probe?module=vici0&target=${target}`, { signal: holder.signal }).catch(() => undefined);
    await waitFor('the running probe to hold its connections', () => silent.openConnections() === PER_PROBE);
    const leaver = new AbortController();
    const queued = exporter.get(`/sessions.html?module=vici1&target=${target}`, { signal: leaver.signal }).catch(() => undefined);
    await waitFor('one probe queued', async () => sampleValue(await (await exporter.get('/metrics')).text(), 'vpn_exporter_probes_queued') === 1);
    leaver.abort();
    await queued;
    await waitFor('the queue to empty', async () => sampleValue(await (await exporter.get('/metrics')).text(), 'vpn_exporter_probes_queued') === 0);
    assert.equal(silent.openConnections(), PER_PROBE, 'the leaver never connected');
    holder.abort();
    await running;
    await waitFor('the gateway to see every connection closed', () => silent.openConnections() === 0);
    assert.ok(exporter.logs.some((l) => /msg="probe throttled"/.test(l) && /gave up after waiting/.test(l)));
  } finally {
    await exporter.close();
  }
});

test('through the exporter: a PAN-OS that hangs before its prompt sees at most 2 SSH sessions at once', async () => {
  const pan = await startPanosEmulator(scenario({ faults: { neverPrompt: true } }));
  // A module per probe, so that they do not share one fetch (see MODULES).
  const panosModule = (n: number) => `  panos${n}:
    prober: paloalto-ssh
    timeout: 1s
    ssh:
      username: ${pan.username}
      password: ${JSON.stringify(pan.password)}
      host_key_fingerprints: [${JSON.stringify(pan.hostKeyFingerprint)}]
`;
  const exporter = await startTestExporter(`modules:\n${Array.from({ length: 6 }, (_, n) => panosModule(n)).join('')}`);
  try {
    const all = Promise.all(
      Array.from({ length: 6 }, async (_, n) => {
        const t0 = performance.now();
        const res = await exporter.get(`/probe?module=panos${n}&target=${pan.host}:${pan.port}`);
        return { status: res.status, text: await res.text(), ms: performance.now() - t0 };
      }),
    );
    const peak = await peakWhile(() => pan.shells(), all);
    const results = await all;
    assert.equal(peak, 2, 'shell sessions open on the device at once');
    assert.equal(pan.requests().shell, 2, 'shells ever requested');
    assert.equal(results.filter((r) => r.status === 200 && /^probe_success 0$/m.test(r.text)).length, 2);
    assert.equal(results.filter((r) => r.status === 503 && /^too many probes in flight for target /.test(r.text)).length, 4);
    for (const r of results) assert.ok(r.ms < 10_000, `answered after ${r.ms} ms`);
  } finally {
    await exporter.close();
    await pan.close();
  }
});
