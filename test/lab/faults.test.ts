// Faults in the real labs while one exporter keeps scraping every gateway about every 0.5 s:
// daemons killed and restarted (charon over VICI and over stroke, sshd, an OpenVPN server) and a
// management link taken down so that connections hang instead of being reset. For each fault:
// the first probe after it fails (at its timeout, never later), the outage holds, the exporter
// recovers by itself within a few probes once the component is back (pooled SSH connections
// included), and it is never restarted: /-/healthy answers 200 throughout.
// The sequence of every drill (times, probe results, reasons) goes to the test's diagnostics.
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import { startTestExporter, type TestExporter } from '../support/exporter.js';
import {
  addManagementPath,
  DrillClock,
  HealthLoop,
  runDrill,
  ScrapeLoop,
  type DrillResult,
  type DrillSpec,
  type ManagementPath,
} from './support/fault-drill.js';
import { startOpenvpnLab, type OpenvpnLab } from './support/openvpn-lab.js';
import { startGatewaySshd, type GatewaySshd } from './support/stroke-ssh-lab.js';
import { PLAN } from './support/strongswan-config.js';
import { startStrokeLab, startViciLab, type StrokeLab, type ViciLab } from './support/strongswan-lab.js';

/**
 * Module timeout: a probe that meets a dead link must give up after this, not hang. Probes here take
 * 0.2-0.7 s, up to 1.7 s on a loaded machine, and every probe outside a drill must succeed.
 */
const TIMEOUT_S = 6;
/** A dead OpenVPN server is visible only once its status file is older than this. */
const MAX_STATUS_AGE_S = 5;
const PERIOD_MS = 500;
/** The loops stop by themselves after this even if the file's after() never runs. */
const LOOP_MAX_S = 240;

const clock = new DrillClock();
let vlab: ViciLab | undefined;
let slab: StrokeLab | undefined;
let ssshd: GatewaySshd | undefined;
let olab: OpenvpnLab | undefined;
let vpath: ManagementPath | undefined;
let opath: ManagementPath | undefined;
let exporter: TestExporter | undefined;
let health: HealthLoop | undefined;
const loops = new Map<string, ScrapeLoop>();
const results: { loop: string; result: DrillResult }[] = [];

function need<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new Error(`${what} did not start`);
  return v;
}

/** Where the OpenVPN lab's sshd listens inside the gateway namespace (its management address). */
function openvpnMgmtAddress(lab: OpenvpnLab): string {
  const config = readFileSync(join(lab.dir, 'sshd', 'sshd_config'), 'utf8');
  const m = /^ListenAddress (\S+):22$/m.exec(config);
  if (!m?.[1]) throw new Error(`no ListenAddress …:22 in the OpenVPN lab's sshd_config:\n${config}`);
  return m[1];
}

function modulesYaml(): string {
  const q = (s: string) => JSON.stringify(s);
  const s = need(ssshd, 'stroke sshd');
  const o = need(olab, 'OpenVPN lab');
  return [
    'modules:',
    '  vici:',
    '    prober: strongswan-vici-tcp',
    `    timeout: ${TIMEOUT_S}s`,
    '  stroke:',
    '    prober: ipsec-ssh',
    `    timeout: ${TIMEOUT_S}s`,
    '    ssh:',
    `      username: ${s.user}`,
    `      private_key: {file: ${q(s.privateKeyFile)}}`,
    `      host_key_fingerprints: [${q(s.hostKeyFingerprint)}]`,
    '  ovpn:',
    '    prober: openvpn-ssh',
    `    timeout: ${TIMEOUT_S}s`,
    `    max_status_age: ${MAX_STATUS_AGE_S}s`,
    '    ssh:',
    `      username: ${o.sshUser}`,
    `      private_key: {file: ${q(o.privateKeyFile)}}`,
    // The management path forwards from its own port, so pin the key rather than name the host.
    `      host_key_fingerprints: [${q(o.hostKeyFingerprint)}]`,
    '    status_files:',
    ...Object.entries(o.statusFiles).map(([name, path]) => `      - {name: ${name}, path: ${q(path)}}`),
    '',
  ].join('\n');
}

before(async () => {
  // The three labs come up side by side; whichever started is torn down in after() even if another failed.
  const started = await Promise.allSettled([
    startViciLab().then((l) => (vlab = l)),
    startStrokeLab().then(async (l) => {
      slab = l;
      ssshd = await startGatewaySshd(l);
    }),
    startOpenvpnLab().then((l) => (olab = l)),
  ]);
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  const v = need(vlab, 'VICI lab');
  const o = need(olab, 'OpenVPN lab');
  vpath = await addManagementPath({ gatewayNs: v.gatewayNs, mgmtAddress: v.mgmtAddress, ports: [PLAN.viciPort], logDir: v.dir });
  opath = await addManagementPath({ gatewayNs: o.gatewayNs, mgmtAddress: openvpnMgmtAddress(o), ports: [22], logDir: o.dir });
  exporter = await startTestExporter(modulesYaml());
  const get = exporter.get.bind(exporter);
  const opts = { periodMs: PERIOD_MS, maxSeconds: LOOP_MAX_S, httpTimeoutMs: (10 * TIMEOUT_S + 5) * 1000 };
  loops.set('vici', new ScrapeLoop('vici', get, 'vici', need(vpath.targets.get(PLAN.viciPort), 'VICI path'), clock, opts));
  loops.set('stroke', new ScrapeLoop('stroke', get, 'stroke', need(ssshd, 'stroke sshd').target, clock, opts));
  loops.set('ovpn', new ScrapeLoop('ovpn', get, 'ovpn', need(opath.targets.get(22), 'OpenVPN path'), clock, opts));
  health = new HealthLoop(get, clock, { periodMs: 250, maxSeconds: LOOP_MAX_S });
});

after(async () => {
  await Promise.all([...loops.values()].map((l) => l.stop()));
  await health?.stop();
  await exporter?.close();
  await Promise.allSettled([vpath?.stop(), opath?.stop()]);
  await Promise.allSettled([ssshd?.stop().then(() => slab?.stop()), vlab?.stop(), olab?.stop()]);
});

/** Runs one drill, writes its sequence to the diagnostics, then asserts on it. */
async function drill(t: TestContext, loopName: string, spec: DrillSpec): Promise<DrillResult> {
  const loop = need(loops.get(loopName), `loop ${loopName}`);
  const r = await runDrill(loop, clock, spec);
  results.push({ loop: loopName, result: r });
  for (const line of r.lines) t.diagnostic(line);
  assert.ok(r.steady, `${spec.name}: the target was not answering before the fault`);
  const ff = r.firstFail;
  assert.ok(ff, `${spec.name}: no probe ran after the fault`);
  assert.equal(ff.ok, false, `${spec.name}: the first probe after the fault succeeded`);
  assert.ok(
    ff.end - ff.start <= spec.maxFailSeconds,
    `${spec.name}: the failing probe took ${(ff.end - ff.start).toFixed(2)}s, more than ${spec.maxFailSeconds}s`,
  );
  if (spec.reason) assert.match(ff.reason ?? '', spec.reason, `${spec.name}: reason of the first failure`);
  assert.deepEqual(
    r.successesDuringOutage.map((p) => p.n),
    [],
    `${spec.name}: probes succeeded while the fault was in place`,
  );
  assert.ok(r.recovery, `${spec.name}: no successful probe after the restore`);
  assert.ok(r.probesToRecover <= spec.recoverWithin, `${spec.name}: recovered only at the ${r.probesToRecover}th probe after the restore`);
  return r;
}

const killRestart = { holdProbes: 2, maxFailSeconds: TIMEOUT_S + 1, recoverWithin: 2 };
/**
 * The probe must wait out its whole timeout (the connection hangs; nothing resets it) and then give up:
 * within ten times the timeout, so that a loaded machine does not fail the drill.
 */
const hangs = { holdProbes: 2, maxFailSeconds: 10 * TIMEOUT_S, reason: /timed out/, recoverWithin: 3 };

function assertHungUntilTimeout(r: DrillResult): void {
  const took = (r.firstFail?.end ?? 0) - (r.firstFail?.start ?? 0);
  assert.ok(
    took >= TIMEOUT_S - 0.5,
    `${r.spec.name}: the probe failed after ${took.toFixed(2)}s, before its ${TIMEOUT_S}s timeout: the link fault reset the connection instead of hanging it`,
  );
}

test('VICI lab: charon killed, then started again', async (t) => {
  const lab = need(vlab, 'VICI lab');
  await drill(t, 'vici', {
    name: 'VICI lab: charon SIGKILL, restart',
    inject: () => lab.killCharon(),
    restore: () => lab.startCharon(),
    reason: /vici connection|refused|reset/,
    ...killRestart,
  });
});

test('VICI lab: management link down, then up (the VICI connection hangs)', async (t) => {
  const path = need(vpath, 'VICI management path');
  const r = await drill(t, 'vici', {
    name: `VICI lab: ip link set ${path.gatewayLink} down/up in the gateway namespace`,
    inject: () => path.down(),
    restore: () => path.up(),
    ...hangs,
  });
  assertHungUntilTimeout(r);
});

test('stroke lab (ipsec-ssh): sshd killed, then started again', async (t) => {
  const sshd = need(ssshd, 'stroke sshd');
  await drill(t, 'stroke', {
    name: 'stroke lab: sshd SIGKILL (listener and sessions), restart',
    inject: () => sshd.kill(),
    restore: () => sshd.start(),
    reason: /ssh|closed|refused/,
    ...killRestart,
  });
});

test('stroke lab (ipsec-ssh): charon killed, then started again', async (t) => {
  const lab = need(slab, 'stroke lab');
  await drill(t, 'stroke', {
    name: 'stroke lab: starter and charon SIGKILL, ipsec start',
    inject: () => lab.killCharon(),
    restore: () => lab.startCharon(),
    reason: /statusall failed/,
    ...killRestart,
  });
});

test('OpenVPN lab: a server killed, then started again', async (t) => {
  const lab = need(olab, 'OpenVPN lab');
  await drill(t, 'ovpn', {
    name: 'OpenVPN lab: tcp server SIGKILL, restart',
    inject: () => lab.killServer('tcp'),
    restore: () => lab.startServer('tcp'),
    // Nothing tells the prober the daemon died: its status file stops being rewritten (every 1 s) and
    // fails the probe once older than max_status_age (whole seconds, read with the gateway's `date +%s`).
    detectAfter: (injected) => {
      const ageS = (Date.now() - statSync(lab.statusFiles.tcp).mtimeMs) / 1000;
      return injected - ageS + MAX_STATUS_AGE_S + 2;
    },
    reason: /status file tcp .* is stale/,
    ...killRestart,
  });
});

test('OpenVPN lab: sshd killed, then started again (pooled connection lost)', async (t) => {
  const lab = need(olab, 'OpenVPN lab');
  await drill(t, 'ovpn', {
    name: 'OpenVPN lab: sshd SIGKILL (listener and sessions), restart',
    inject: () => lab.killSshd(),
    restore: () => lab.startSshd(),
    reason: /ssh|closed|refused/,
    ...killRestart,
  });
});

test('OpenVPN lab: management link down, then up (the pooled SSH connection hangs)', async (t) => {
  const path = need(opath, 'OpenVPN management path');
  const r = await drill(t, 'ovpn', {
    name: `OpenVPN lab: ip link set ${path.gatewayLink} down/up in the gateway namespace`,
    inject: () => path.down(),
    restore: () => path.up(),
    ...hangs,
  });
  assertHungUntilTimeout(r);
});

test("the exporter stayed up and kept every other gateway's probes succeeding", async (t) => {
  const h = need(health, 'health loop');
  const e = need(exporter, 'exporter');
  t.diagnostic(`/-/healthy: ${h.checks} checks every 250 ms, ${h.bad.length} not 200${h.bad.length ? `: ${JSON.stringify(h.bad.slice(0, 5))}` : ''}`);
  assert.ok(h.checks > 20, `only ${h.checks} health checks ran`);
  assert.deepEqual(h.bad, [], '/-/healthy answered something else than 200');

  // A fault on one gateway is that gateway's: outside its own drills, every probe of a loop succeeded.
  for (const [name, loop] of loops) {
    const own = results.filter((r) => r.loop === name).map(({ result: r }) => [r.injectStart, r.recovery?.end ?? Infinity] as const);
    const outside = loop.records.filter((p) => !own.some(([from, to]) => p.end >= from && p.start <= to));
    const failed = outside.filter((p) => !p.ok);
    const hung = loop.records.filter((p) => p.reason?.startsWith('no answer from the exporter'));
    t.diagnostic(
      `loop ${name}: ${loop.records.length} probes, ${loop.records.filter((p) => !p.ok).length} failed in its own drills, ` +
        `${failed.length} failed outside them${
          failed.length
            ? `: ${failed
                .slice(0, 3)
                .map((p) => `#${p.n} ${p.start.toFixed(2)}s ${p.reason}`)
                .join('; ')}`
            : ''
        }`,
    );
    assert.deepEqual(
      hung.map((p) => p.n),
      [],
      `loop ${name}: the exporter did not answer some probes at all`,
    );
    assert.deepEqual(
      failed.map((p) => `#${p.n} ${p.reason}`),
      [],
      `loop ${name}: probes failed outside the drills of this gateway`,
    );
    const last = loop.records[loop.records.length - 1];
    assert.equal(last?.ok, true, `loop ${name}: the last probe failed`);
  }
  const pool = e.ssh.stats();
  t.diagnostic(`SSH pool at the end: ${pool.connections} connections, ${pool.channels} channels open, ${pool.handshakes} handshakes in all`);
  assert.ok(pool.connections <= 2, `pooled SSH connections leaked: ${pool.connections}`);
});
