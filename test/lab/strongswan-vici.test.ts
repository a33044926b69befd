// The strongswan-vici-tcp prober end to end: a real charon gateway (see support/strongswan-lab.ts), the
// exporter in-process. Every fact is compared with what swanctl reports on the same daemon, read right
// before and right after the probe: stable facts must match exactly, moving counters and timers must lie
// within the window between the two readings.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startCharonLike } from '../support/charon-like.js';
import { sampleValue, startTestExporter, type TestExporter } from '../support/exporter.js';
import type { ScriptedViciServer } from '../support/vici-server.js';
import { run, runInNs } from './support/netns.js';
import { PLAN } from './support/strongswan-config.js';
import { assertCertificates } from './support/cert-compare.js';
import { startViciLab, type ViciLab } from './support/strongswan-lab.js';
import {
  assertDaemonAndProbe,
  assertShunts,
  assertStrongswanDetail,
  assertTunnels,
  assertUsersAndPools,
  measure,
  type Measurement,
} from './support/vici-scenario.js';
import { escapeRegExp } from '../support/regexp.js';
import { waitFor } from '../support/wait-for.js';
import { userHasher } from '../../src/exposition/privacy.js';
import { samples } from '../support/exposition.js';
import { userOf } from './support/vici-compare.js';

const MODULE_TIMEOUT_S = 5;
const USER_HASH_KEY = 'lab-user-hash-key-5b8e2f7a91c3';
const MODULES = `modules:
  vici:
    prober: strongswan-vici-tcp
    timeout: ${MODULE_TIMEOUT_S}s
  vici_other:
    prober: strongswan-vici-tcp
    timeout: 2s
  vici_private:
    prober: strongswan-vici-tcp
    timeout: ${MODULE_TIMEOUT_S}s
    user_labels: hashed
    user_hash_key: ${USER_HASH_KEY}
    max_users: 1
`;

/** A dead charon seen through the socat forward: the connection is accepted, then closed or reset. */
const CLOSED_REASON = /probe failed reason="(?:vici connection closed by|connection reset by|connection closed by) 127\.0\.0\.1:\d+[^"]*"/;

let lab: ViciLab;
let exporter: TestExporter;
/** A scripted VICI server standing in for another gateway, probed with another module. */
let other: ScriptedViciServer;

async function assertPromtoolAccepts(text: string): Promise<void> {
  const r = await run('promtool', ['check', 'metrics'], { input: text, okExitCodes: [0, 1, 3] }).catch((err: unknown) => {
    throw new Error(`promtool must be installed (Debian package prometheus): ${err instanceof Error ? err.message : String(err)}`);
  });
  assert.equal(r.code, 0, `promtool check metrics:\n${r.stdout}${r.stderr}\n--- input ---\n${text}`);
}

/** charon's pid from its pid file, only if that process really is a charon. */
function charonPid(): number {
  const pid = Number(readFileSync(join(lab.dir, 'gw', 'run', 'charon.pid'), 'utf8').trim());
  assert.ok(Number.isInteger(pid) && pid > 1, 'charon.pid holds a pid');
  assert.match(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), /charon/, `pid ${pid} is a charon`);
  return pid;
}

/**
 * Runs `then` synchronously inside the exporter's logging call for the first line matching `re` (the test
 * exporter's log sink pushes every line into `exporter.logs`), i.e. before the probe goes on.
 */
function onExporterLog(re: RegExp, then: () => void): { fired: Promise<void>; dispose(): void } {
  const logs = exporter.logs;
  let fire!: () => void;
  const fired = new Promise<void>((resolve) => (fire = resolve));
  const dispose = () => void Reflect.deleteProperty(logs, 'push');
  logs.push = (...lines: string[]) => {
    const n = Array.prototype.push.apply(logs, lines);
    if (lines.some((l) => re.test(l))) {
      dispose();
      then();
      fire();
    }
    return n;
  };
  return { fired, dispose };
}

/** VICI connections inside the gateway namespace towards charon (socat's side of a forwarded session). */
async function viciSessionsToCharon(): Promise<number> {
  const r = await runInNs(lab.gatewayNs, 'ss', ['-Htn', 'state', 'established', 'dst', `${lab.mgmtAddress}:${PLAN.viciPort}`]);
  return r.stdout.split('\n').filter((l) => l.trim() !== '').length;
}

async function probeText(module: string, target: string, debug = false): Promise<{ text: string; seconds: number }> {
  const t0 = performance.now();
  const res = await exporter.get(`/probe?module=${module}&target=${target}${debug ? '&debug=true' : ''}`);
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return { text, seconds: (performance.now() - t0) / 1000 };
}

async function assertExporterServes(): Promise<void> {
  assert.equal((await exporter.get('/-/healthy')).status, 200);
  const { text } = await probeText('vici_other', `127.0.0.1:${other.port}`);
  assert.equal(sampleValue(text, 'probe_success'), 1, `another module against another gateway still works:\n${text}`);
}

before(async () => {
  // A lab that cannot start throws here, which fails every test of this file.
  lab = await startViciLab();
  other = await startCharonLike(2);
  exporter = await startTestExporter(MODULES);
});

after(async () => {
  await exporter?.close();
  await other?.close();
  await lab?.stop();
});

describe('a probe of the running gateway', () => {
  let m: Measurement;
  before(async () => {
    m = await measure(lab.swanctl, () => exporter.get(`/probe?module=vici&target=${lab.target}`));
  });

  test("succeeds in well under a second, with the daemon's version, IKE_SA count and uptime", () => {
    assertDaemonAndProbe(m);
  });

  test('reports every conn of --list-conns with the state, kind, children and sessions swanctl shows', () => {
    assertTunnels(m);
  });

  test('keeps the bypass and drop conns out of the tunnels and reports them as shunts', () => {
    assertShunts(m);
  });

  test("reports each certificate's expiry and the CRL's next update as swanctl --list-certs and openssl show them", async () => {
    assertCertificates(m.text, await lab.swanctl(['--list-certs', '--utc']), lab.pki);
  });

  test("reports alice, bob and carol and the pools' leases as swanctl does", () => {
    assertUsersAndPools(m);
  });

  test('reports per-child counters and timers within the two swanctl readings', () => {
    assertStrongswanDetail(m);
  });

  test('answers an exposition promtool accepts', async () => {
    await assertPromtoolAccepts(m.text);
  });

  // ~20 ms each on a quiet machine; the bound says "never near a timeout", and held at a load of 20.
  test('stays fast, probe after probe', async () => {
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const { text, seconds } = await probeText('vici', lab.target);
      assert.equal(sampleValue(text, 'probe_success'), 1, text);
      times.push(seconds);
    }
    assert.ok(Math.max(...times) < 5, `probe times: ${times.join(', ')}s`);
  });
});

describe('a probe with user_labels: hashed and max_users: 1', () => {
  test("keeps one user, hashed, the longest connected of swanctl's; sums the others into one series; names nobody", async () => {
    const m = await measure(lab.swanctl, () => exporter.get(`/probe?module=vici_private&target=${lab.target}`));
    const hash = userHasher(USER_HASH_KEY);
    // swanctl's users: (conn, user) -> IKE_SAs and the age of the oldest.
    const users = new Map<string, { conn: string; user: string; sas: number; age: number }>();
    for (const sa of m.before.sas) {
      const k = JSON.stringify([sa.conn, userOf(sa)]);
      const u = users.get(k) ?? { conn: sa.conn, user: userOf(sa), sas: 0, age: -1 };
      u.sas++;
      u.age = Math.max(u.age, sa.establishedSeconds ?? -1);
      users.set(k, u);
    }
    assert.ok(users.size >= 3, `the lab has several users:\n${m.before.text}`);
    for (const u of users.values()) assert.ok(!m.text.includes(`"${u.user}"`), `${u.user} is named in:\n${m.text}`);

    const series = samples(m.text, 'vpn_user_sessions');
    const kept = series.filter((s) => s.labels.user !== '__overflow__');
    assert.equal(kept.length, 1, m.text);
    const keptUser = [...users.values()].find((u) => u.conn === kept[0]?.labels.tunnel && hash(u.user) === kept[0]?.labels.user);
    assert.ok(keptUser, `the kept series is the pseudonym of a user swanctl lists: ${JSON.stringify(kept[0])}`);
    const oldest = Math.max(...[...users.values()].map((u) => u.age));
    assert.ok(keptUser.age >= oldest - 1, `the kept user (${keptUser.age} s) is the longest connected (${oldest} s)`);
    assert.equal(kept[0]?.value, keptUser.sas);

    // The one overflow series counts the IKE_SAs of every other user.
    const others = m.before.sas.length - keptUser.sas;
    assert.deepEqual(
      series.filter((s) => s.labels.user === '__overflow__').map((s) => [s.labels.tunnel, s.value]),
      [['__overflow__', others]],
    );
    assert.equal(samples(m.text, 'vpn_users_overflow')[0]?.value, users.size - 1);
    assert.equal(
      series.reduce((a, s) => a + s.value, 0),
      m.before.sas.length,
    );
  });
});

describe('when charon dies', () => {
  test('killed mid-scrape, the probe fails at once with a connection closed/reset reason', async () => {
    const pid = charonPid();
    // Freeze charon the moment the exporter is connected, before its pipelined commands reach it:
    // the probe is then certainly mid-scrape (the kernel still takes the requests, nobody answers).
    const connected = new RegExp(`^(?=.*\\btarget=${escapeRegExp(lab.target)}\\b)(?=.*msg="tcp connected")`);
    const hook = onExporterLog(connected, () => process.kill(pid, 'SIGSTOP'));
    let killed = false;
    try {
      const t0 = performance.now();
      const pending = probeText('vici', lab.target, true);
      void pending.catch(() => undefined); // awaited below; not an unhandled rejection should the test fail earlier
      const frozen = await Promise.race([hook.fired.then(() => true), pending.then(() => false)]);
      assert.ok(frozen, `the probe ended before the exporter logged a line matching ${connected}:\n${exporter.logs.slice(-10).join('\n')}`);
      // The exporter's connection ends at the lab's socat forward, which then connects on to charon:
      // the kernel completes that handshake for the frozen charon too, a moment later.
      await waitFor("the probe's VICI session to reach the frozen charon", async () => (await viciSessionsToCharon()) >= 1);
      const metrics = await (await exporter.get('/metrics')).text();
      assert.equal(sampleValue(metrics, 'vpn_exporter_probes_in_flight'), 1, 'the probe is still running');
      const killedAt = performance.now();
      await lab.killCharon();
      killed = true;
      const { text } = await pending;
      const total = (performance.now() - t0) / 1000;
      const afterKill = (performance.now() - killedAt) / 1000;
      assert.equal(sampleValue(text, 'probe_success'), 0, text);
      assert.match(text, /debug vici command failed command=version /, text);
      assert.match(text, CLOSED_REASON);
      assert.doesNotMatch(text, /timed out|aborted/, 'the probe failed because charon died, not at its deadline');
      assert.doesNotMatch(text, /^vpn_info/m);
      assert.ok(total < MODULE_TIMEOUT_S, `the probe took ${total}s, the module allows ${MODULE_TIMEOUT_S}s`);
      assert.ok(afterKill < 2, `the probe ended ${afterKill}s after charon was killed`);
    } finally {
      hook.dispose();
      // Should the test have failed before the kill, leave no frozen daemon behind for the teardown.
      if (!killed) process.kill(pid, 'SIGCONT');
    }
    await assertExporterServes();
  });

  test('while it is down, probes fail fast with the reason and the exporter keeps serving', async () => {
    await assert.rejects(lab.swanctl(['--stats']), 'swanctl cannot reach the dead charon either');
    for (let i = 0; i < 2; i++) {
      const { text, seconds } = await probeText('vici', lab.target, true);
      assert.equal(sampleValue(text, 'probe_success'), 0, text);
      assert.match(text, CLOSED_REASON);
      assert.ok(seconds < 2, `a probe of the dead charon took ${seconds}s`);
    }
    const plain = await probeText('vici', lab.target);
    assert.equal(sampleValue(plain.text, 'probe_success'), 0);
    await assertPromtoolAccepts(plain.text);
    await assertExporterServes();
    const metrics = await (await exporter.get('/metrics')).text();
    assert.ok((sampleValue(metrics, 'vpn_exporter_probes_total{module="vici",result="failure"}') ?? 0) >= 4, metrics);
  });

  test('after a restart the next probe succeeds and matches swanctl again, without restarting the exporter', { timeout: 60_000 }, async () => {
    await lab.startCharon();
    const m = await measure(lab.swanctl, () => exporter.get(`/probe?module=vici&target=${lab.target}`));
    assertDaemonAndProbe(m);
    assertTunnels(m);
    assertUsersAndPools(m);
    assertStrongswanDetail(m);
    await assertPromtoolAccepts(m.text);
    // A fresh daemon: its uptime is that of the restart, not of the first start.
    assert.ok((sampleValue(m.text, 'vpn_uptime_seconds') ?? Infinity) < 60, m.text);
  });
});
