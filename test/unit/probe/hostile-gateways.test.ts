import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import { listConnEvents, listSaEvents, versionResponse } from '../../support/charon-shapes.js';
import { startTestExporter, type TestExporter } from '../../support/exporter.js';
import { openFdsExceptHttp } from '../../support/open-fds.js';
import { startHostileSsh, type HostileSsh } from '../../support/hostile-ssh.js';
import { startViciServer, type HostileMode, type ScriptedViciServer } from '../../support/vici-server.js';
import { startCharonLike } from '../../support/charon-like.js';
import { waitFor } from '../../support/wait-for.js';

/*
 * Gateways that misbehave, probed through the whole exporter: each probe must fail with
 * its reason within its timeout, the exporter must keep answering other probes meanwhile,
 * and nothing may leak (file descriptors, heap, unhandled rejections) over many rounds.
 */

// node --test does not pass --expose-gc through; the flag can still be set at run time.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

let exporter: TestExporter;
let charon: ScriptedViciServer;
/** A silent VICI gateway of its own for the probe that hangs (a per-target limit must not mix it with the cases). */
let hang: ScriptedViciServer;
const vici = {} as Record<HostileMode, ScriptedViciServer>;
const ssh = {} as Record<'silent' | 'stall' | 'flood' | 'echo', HostileSsh>;
let mute: { port: number; open(): number; close(): Promise<void> };

interface Case {
  name: string;
  /** Module name without the speed suffix. */
  module: 'vici' | 'ssh';
  port: () => number;
  reason: RegExp;
  /** Connections the gateway holds now. */
  open: () => number;
  /** Authenticated, so the SSH pool keeps the connection for the next probe: one may stay open. */
  pooled?: true;
}

const CASES: Case[] = [
  {
    name: 'VICI huge segment (4 GiB announced)',
    module: 'vici',
    port: () => vici['huge-segment'].port,
    open: () => vici['huge-segment'].openConnections(),
    reason: /announced a segment of 4294967295 bytes, over the limit/,
  },
  {
    name: 'VICI endless events',
    module: 'vici',
    port: () => vici['endless-events'].port,
    open: () => vici['endless-events'].openConnections(),
    reason: /exceeds the limit of 1048576 bytes|streamed more than \d+ "list-(sa|conn)" events|unexpected event "list-sa" while waiting for version/,
  },
  {
    name: 'VICI stops mid-message',
    module: 'vici',
    port: () => vici['stop-mid-message'].port,
    open: () => vici['stop-mid-message'].openConnections(),
    reason: /closed mid-segment after \d+ bytes/,
  },
  { name: 'VICI garbage', module: 'vici', port: () => vici.garbage.port, open: () => vici.garbage.openConnections(), reason: /malformed VICI packet/ },
  { name: 'VICI silent', module: 'vici', port: () => vici.silent.port, open: () => vici.silent.openConnections(), reason: /^probe timed out$/ },
  { name: 'SSH silent (no banner)', module: 'ssh', port: () => ssh.silent.port, open: () => ssh.silent.openConnections(), reason: /^probe timed out$/ },
  { name: 'SSH stalls after auth', module: 'ssh', port: () => ssh.stall.port, open: () => ssh.stall.openConnections(), reason: /^probe timed out$/ },
  { name: 'SSH floods its output', module: 'ssh', port: () => ssh.flood.port, open: () => ssh.flood.openConnections(), reason: /65536/, pooled: true },
  {
    name: 'SSH host key changed',
    module: 'ssh',
    port: () => ssh.echo.port,
    open: () => ssh.echo.openConnections(),
    reason: /host key for 127\.0\.0\.1:\d+ not trusted: presented SHA256:/,
  },
  { name: 'TCP port that accepts and says nothing', module: 'ssh', port: () => mute.port, open: () => mute.open(), reason: /^probe timed out$/ },
];

function modules(): string {
  const fingerprints = JSON.stringify([ssh.stall.hostKeyFingerprint, ssh.flood.hostKeyFingerprint]);
  const sshModule = (name: string, timeout: string) => `  ${name}:
    prober: openvpn-ssh
    timeout: ${timeout}
    ssh:
      username: probe
      password: hostile-pass
      host_key_fingerprints: ${fingerprints}
    status_files: [{name: udp, path: /run/openvpn/udp.status}]
    max_output_bytes: 65536
`;
  const viciModule = (name: string, timeout: string) => `  ${name}:
    prober: strongswan-vici-tcp
    timeout: ${timeout}
    max_response_bytes: 1048576
`;
  return `modules:
  good:
    prober: strongswan-vici-tcp
    timeout: 5s
${viciModule('vici', '1s')}${viciModule('vici_fast', '250ms')}${viciModule('vici_patient', '10s')}${viciModule('vici_hang', '60s')}
${sshModule('ssh', '1s')}${sshModule('ssh_fast', '250ms')}${sshModule('ssh_patient', '10s')}`;
}

/** Accepts TCP and never sends a byte; what arrives is read and dropped, so a client's close is seen. */
async function startMute(): Promise<typeof mute> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.once('close', () => sockets.delete(s));
    s.on('end', () => s.destroy());
    s.resume();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    open: () => sockets.size,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

before(async () => {
  process.on('unhandledRejection', onUnhandled);
  charon = await startCharonLike(2);
  hang = await startViciServer({ hostile: 'silent' });
  const scripted = {
    version: () => ({ response: versionResponse() }),
    'list-sas': () => ({ response: {}, events: listSaEvents(1), eventName: 'list-sa' }),
    'list-conns': () => ({ response: {}, events: listConnEvents(1), eventName: 'list-conn' }),
  };
  for (const mode of ['huge-segment', 'endless-events', 'stop-mid-message', 'garbage', 'silent'] as const) {
    vici[mode] = await startViciServer({ hostile: mode, commands: scripted });
  }
  ssh.silent = await startHostileSsh('silent');
  ssh.stall = await startHostileSsh('stall-after-auth');
  ssh.flood = await startHostileSsh('flood');
  ssh.echo = await startHostileSsh('echo');
  mute = await startMute();
  exporter = await startTestExporter(modules());
});

after(async () => {
  process.off('unhandledRejection', onUnhandled);
  await exporter?.close();
  for (const s of [charon, hang, ...Object.values(vici)]) await s?.close();
  for (const s of Object.values(ssh)) await s.stop();
  await mute?.close();
});

interface ApiAnswer {
  status: number;
  success: boolean;
  reason: string | null;
  ms: number;
}

async function apiProbe(module: string, port: number, signal?: AbortSignal): Promise<ApiAnswer> {
  const t0 = performance.now();
  // A probe that outlives its deadline many times over fails the test here rather than hanging it.
  const giveUp = new AbortController();
  const timer = setTimeout(() => giveUp.abort(new Error(`no answer within 20 s from ${module} on port ${port}`)), 20_000);
  signal?.addEventListener('abort', () => giveUp.abort(signal.reason), { once: true });
  try {
    const res = await exporter.get(`/api/probe?module=${module}&target=127.0.0.1:${port}`, { signal: giveUp.signal });
    const body = (await res.json()) as { success: boolean; reason: string | null; error?: string };
    return { status: res.status, success: body.success, reason: body.reason ?? body.error ?? null, ms: performance.now() - t0 };
  } finally {
    clearTimeout(timer);
  }
}

/** Every gateway has let go of the probes' connections, but for one pooled SSH connection with no channel on it. */
async function settledGateways(): Promise<void> {
  const left = () => CASES.map((c) => `${c.name}: ${c.open()}`).join(', ');
  await waitFor("the gateways to let go of the probes' connections", () => CASES.every((c) => c.open() <= (c.pooled ? 1 : 0)) && hang.openConnections() === 0, {
    describe: () => `${left()}, hanging gateway: ${hang.openConnections()}`,
  });
  await waitFor(
    'the exporter to hold no SSH channel and at most one connection',
    () => exporter.ssh.stats().channels === 0 && exporter.ssh.stats().connections <= 1,
    {
      describe: () => JSON.stringify(exporter.ssh.stats()),
    },
  );
}

/** Open fds, the test client's idle keep-alive connections to the exporter aside. */
const fds = () => openFdsExceptHttp(Number(new URL(exporter.url).port));

test('every hostile gateway fails with its reason within its timeout, while a good gateway keeps answering', async () => {
  // A probe that hangs on a silent gateway until this test lets go of it (its timeout is a minute):
  // good probes must not wait for it, however slow this machine is.
  const letGo = new AbortController();
  let hanging = true;
  const hangingProbe = apiProbe('vici_hang', hang.port, letGo.signal)
    .catch(() => undefined)
    .finally(() => (hanging = false));
  await waitFor('the hanging probe to reach its gateway', () => hang.openConnections() > 0);
  // Gateways that hang fail by the 1 s timeout; the others must fail by what they do, however long a
  // loaded machine takes to get there (a flood of 64 KiB behind an SSH handshake), so they get 10 s.
  const timesOut = (c: Case) => c.reason.source === '^probe timed out$';
  const hostile = Promise.all(CASES.map((c) => apiProbe(timesOut(c) ? c.module : `${c.module}_patient`, c.port())));
  // The good gateway, probed again and again while the hostile probes hold their connections.
  const good: ApiAnswer[] = [];
  for (let i = 0; i < 3; i++) good.push(await apiProbe('good', charon.port));
  assert.ok(hanging, 'the good probes waited for the hanging one');
  letGo.abort();
  await hangingProbe;
  const results = await hostile;
  for (const g of good) assert.equal(g.success, true, g.reason ?? '');
  CASES.forEach((c, i) => {
    const r = results[i]!;
    assert.equal(r.status, 200, `${c.name}: ${r.status} ${r.reason}`);
    assert.equal(r.success, false, c.name);
    assert.match(r.reason ?? '', c.reason, c.name);
    // Ten times the 1 s timeout: a probe that ignored its deadline would hang until apiProbe gives up.
    if (timesOut(c)) assert.ok(r.ms < 10 * 1000, `${c.name}: failed after ${r.ms} ms, the timeout is 1 s`);
  });
  // Nothing is left open on the gateways' side once the probes are over.
  await settledGateways();
  assert.deepEqual(unhandled, []);
});

test('a probe keeps its deadline under garbage collection (the deadline timer must not be collected)', async () => {
  // With AbortSignal.any([AbortSignal.timeout(ms), ...]) Node 20 may collect the timeout
  // signal and the probe then hangs forever against a silent gateway.
  const collecting = setInterval(gc, 20);
  try {
    const results = await Promise.all([apiProbe('vici_fast', vici.silent.port), apiProbe('ssh_fast', ssh.silent.port), apiProbe('ssh_fast', mute.port)]);
    for (const r of results) {
      assert.equal(r.reason, 'probe timed out');
      assert.ok(r.ms < 10 * 250, `took ${r.ms} ms with a 250 ms timeout`);
    }
  } finally {
    clearInterval(collecting);
  }
});

test('50 rounds of every hostile gateway leave file descriptors and heap where they were', async () => {
  const round = async () => {
    const results = await Promise.all([...CASES.map((c) => apiProbe(`${c.module}_fast`, c.port())), apiProbe('good', charon.port)]);
    const good = results.pop()!;
    assert.equal(good.success, true, good.reason ?? '');
    results.forEach((r, i) => {
      assert.equal(r.success, false, CASES[i]!.name);
      assert.ok(r.ms < 10 * 250, `${CASES[i]!.name}: ${r.ms} ms with a 250 ms timeout`);
    });
  };
  // Warm up: pooled SSH connections, lazily loaded code, the history filling to its limit.
  for (let i = 0; i < 5; i++) await round();
  await settledGateways();
  gc();
  const fdsBefore = fds();
  const heapBefore = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  for (let i = 0; i < 50; i++) await round();
  const took = performance.now() - t0;
  await settledGateways();
  // A leak never heals: waiting long costs nothing without one, and a loaded machine closes slowly.
  await waitFor('open fds back to where they were', () => fds() <= fdsBefore, { timeoutMs: 60_000, describe: () => `open fds ${fds()}, ${fdsBefore} before` });
  gc();
  const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
  assert.ok(heapGrowth < 16 * 1024 * 1024, `heap grew by ${(heapGrowth / 1048576).toFixed(1)} MB over 50 rounds`);
  assert.deepEqual(unhandled, []);
  assert.ok(!exporter.logs.some((l) => /unhandled|msg="request failed"|internal error/.test(l)), 'no bug surfaced in the log');
  console.log(
    `hostile-gateways: 50 rounds x ${CASES.length} hostile probes + 1 good in ${(took / 1000).toFixed(1)} s; fds ${fdsBefore} -> ${fds()}, heap ${heapGrowth >= 0 ? '+' : ''}${(heapGrowth / 1048576).toFixed(2)} MB`,
  );
});
